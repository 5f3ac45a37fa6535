"""The layer order of docs/architecture.md, checked on every module's imports.

Each top-level part of ``omniroute`` has a layer; a module may import its own layer and the
ones below, never one above. ``store`` (and the coming ``cache`` and ``telemetry``) depend
only on ``errors``, ``canonical`` and themselves (``usage`` is the glue between the
pipeline and ``telemetry``); ``dashboard`` (static files) on nothing. Imports under
``if TYPE_CHECKING:`` count too: an annotation that points up the order is a dependency all the
same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "omniroute"

#: layer → the top-level parts of the package in it (docs/architecture.md, "Layers")
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "config", "canonical", "__init__"}),
    frozenset({"formats"}),
    frozenset({"providers", "upstream", "media", "store", "cache", "telemetry", "dashboard"}),
    frozenset({"routing", "oauth", "hooks", "context", "guard", "relay", "translate", "pipeline", "media_pipeline",
               "gateway", "access_log", "inputs", "provision", "settings", "evals", "usage", "caching", "progress",
               "answers"}),
    frozenset({"server"}),
    frozenset({"app"}),
    frozenset({"cli", "__main__"}),
)
LAYER = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
#: parts that may import only these (besides themselves)
SELF_CONTAINED = {part: frozenset({"errors", "canonical"}) for part in ("store", "cache", "telemetry")}
SELF_CONTAINED["dashboard"] = frozenset()  # static files and the table that serves them


def part_of(module: Path) -> str:
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_parts(module: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, top-level part of omniroute) for every import of the package in ``module``
    (``root``: the package directory it lives in)."""
    tree = ast.parse(module.read_text(), str(module))
    package = module.relative_to(root.parent).with_suffix("").parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = ".".join(package[: len(package) - node.level])
                names = [f"{base}.{node.module}"] if node.module else [f"{base}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "omniroute" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
            elif isinstance(node, ast.ImportFrom) and name == "omniroute":  # a submodule, or a name of __init__
                found.extend((node.lineno, a.name if _is_module(root, a.name) else "__init__") for a in node.names)
    return found


def _is_module(root: Path, name: str) -> bool:
    return (root / f"{name}.py").exists() or (root / name).is_dir()


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_a_layer() -> None:
    missing = {part_of(m) for m in MODULES} - set(LAYER)
    assert not missing, f"give these a layer in LAYERS and docs/architecture.md: {sorted(missing)}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(PACKAGE)))
def test_imports_point_down_the_order(module: Path) -> None:
    own = part_of(module)
    if own not in LAYER:
        pytest.skip(f"{own} has no layer (test_every_part_has_a_layer fails)")
    wrong = []
    for line, part in imported_parts(module):
        if part == own:
            continue
        if part not in LAYER:
            wrong.append(f"line {line}: {own} imports {part}, which has no layer")
        elif LAYER[part] > LAYER[own]:
            wrong.append(f"line {line}: {own} (layer {LAYER[own]}) imports {part} (layer {LAYER[part]})")
        elif own in SELF_CONTAINED and part not in SELF_CONTAINED[own]:
            wrong.append(f"line {line}: {own} may import only {sorted(SELF_CONTAINED[own])}, not {part}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The parser finds absolute, relative and type-only imports (so the test can fail)."""
    probe = tmp_path / "omniroute" / "formats" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from typing import TYPE_CHECKING\nimport omniroute.pipeline\nfrom .. import app\n"
                     "if TYPE_CHECKING:\n    from omniroute.server.http import HttpRequest\n")
    assert [p for _line, p in imported_parts(probe, tmp_path / "omniroute")] == ["pipeline", "app", "server"]
