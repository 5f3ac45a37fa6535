"""The dashboard's files over HTTP: the login gate, content types, caching, compression, no
way out of the asset table, and every page within its size budget."""

from __future__ import annotations

import gzip
import posixpath
import re
from pathlib import Path

import httpx
import pytest

from omniroute.dashboard import STATIC, Assets
from omniroute.server.dashboard import PUBLIC, file_name
from tests.dashboard.conftest import PASSWORD
from tests.support.gateway import RunningGateway

PAGES = sorted(p.stem for p in (STATIC / "js" / "pages").glob("*.js"))
#: what every page loads besides its own module (index.html's links and app.js's imports)
SHELL = ["index.html", "css/app.css", "js/app.js", "js/api.js", "js/ui.js", "favicon.svg"]
CHART = ["js/chart.js", "vendor/uplot-1.6.32/uPlot.iife.min.js", "vendor/uplot-1.6.32/uPlot.min.css"]
BUDGET = 300 * 1024


def imports(js: str) -> list[str]:
    """Relative module specifiers of static imports, and of dynamic ones with a fixed prefix."""
    return re.findall(r'from "(\.{1,2}/[\w./-]+)"', js)


def resolve(importer: str, rel: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), rel))


def anonymous(gw: RunningGateway) -> httpx.Client:
    return httpx.Client(base_url=gw.url, timeout=10, follow_redirects=False)


def test_without_a_session_the_app_redirects_to_the_login_page(dash: RunningGateway) -> None:
    with anonymous(dash) as http:
        for path in ("/dashboard", "/dashboard/"):
            answer = http.get(path)
            assert answer.status_code == 302 and answer.headers["location"] == "/dashboard/login", path
        login = http.get("/dashboard/login")
        assert login.status_code == 200 and login.headers["content-type"] == "text/html; charset=utf-8"
        assert 'id="password"' in login.text
        for name in sorted(PUBLIC):
            assert http.get(f"/dashboard/{name}" if name != "login.html" else "/dashboard/login").status_code == 200
        for path in ("/dashboard/js/app.js", "/dashboard/js/pages/keys.js", "/dashboard/" + CHART[1]):
            answer = http.get(path)
            assert answer.status_code == 401 and "login required" in answer.text, path


def test_a_session_opens_the_app_and_the_login_page_sends_it_back(dash: RunningGateway) -> None:
    with anonymous(dash) as http:
        assert http.post("/api/auth/login", json={"password": PASSWORD}).status_code == 200  # cookie kept
        app = http.get("/dashboard")
        assert app.status_code == 200 and '<script type="module" src="/dashboard/js/app.js">' in app.text
        again = http.get("/dashboard/login")
        assert again.status_code == 302 and again.headers["location"] == "/dashboard"
        assert http.get("/dashboard/js/pages/keys.js").status_code == 200
        http.post("/api/auth/logout")
        assert http.get("/dashboard").status_code == 302


def test_without_a_password_loopback_needs_no_login(tmp_path: Path) -> None:
    gw = RunningGateway(tmp_path, env={"HOME": str(tmp_path)})
    try:
        with anonymous(gw) as http:
            assert http.get("/dashboard").status_code == 200
            assert http.get("/dashboard/js/pages/logs.js").status_code == 200
            login = http.get("/dashboard/login")  # nothing to log into
            assert login.status_code == 302 and login.headers["location"] == "/dashboard"
    finally:
        gw.stop()


def test_content_types_caching_and_security_headers(dash: RunningGateway, admin: str) -> None:
    with anonymous(dash) as http:
        http.headers["authorization"] = f"Bearer {admin}"
        types = {"/dashboard": "text/html; charset=utf-8", "/dashboard/css/app.css": "text/css; charset=utf-8",
                 "/dashboard/js/app.js": "text/javascript; charset=utf-8", "/dashboard/favicon.svg": "image/svg+xml",
                 "/dashboard/vendor/uplot-1.6.32/LICENSE": "text/plain; charset=utf-8"}
        for path, kind in types.items():
            answer = http.get(path)
            assert answer.status_code == 200 and answer.headers["content-type"] == kind, path
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
            assert answer.headers["etag"].startswith('"')
        assert http.get("/dashboard/js/app.js").headers["cache-control"] == "no-cache"
        vendor = http.get("/dashboard/vendor/uplot-1.6.32/uPlot.iife.min.js")
        assert vendor.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "uPlot" in vendor.text


def test_etags_answer_304_and_text_is_gzipped(dash: RunningGateway, admin: str) -> None:
    with anonymous(dash) as http:
        http.headers["authorization"] = f"Bearer {admin}"
        first = http.get("/dashboard/js/ui.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in first.headers
        again = http.get("/dashboard/js/ui.js", headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        raw = httpx.get(dash.url + "/dashboard/js/ui.js", headers={"authorization": f"Bearer {admin}",
                                                                   "accept-encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip" and raw.headers["vary"] == "Accept-Encoding"
        assert raw.content == first.content  # httpx decoded it
        assert int(raw.headers["content-length"]) < len(first.content) / 2


@pytest.mark.parametrize("path", [
    "/dashboard/../pyproject.toml", "/dashboard/%2e%2e/%2e%2e/pyproject.toml", "/dashboard/..%2f..%2fapp.py",
    "/dashboard//etc/passwd", "/dashboard/js/../../assets.py", "/dashboard/nope.js", "/dashboard/js",
    "/dashboard/.hidden", "/dashboard/js/pages/",
])
def test_nothing_outside_the_asset_table_is_served(dash: RunningGateway, admin: str, path: str) -> None:
    answer = httpx.get(dash.url + path, headers={"authorization": f"Bearer {admin}"})
    assert answer.status_code == 404, (path, answer.status_code)
    assert "import " not in answer.text and "[project]" not in answer.text  # no file's content


def test_the_table_holds_only_servable_files(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("x")
    (tmp_path / "notes.md").write_text("secret")
    (tmp_path / ".env").write_text("KEY=1")
    (tmp_path / "link.js").symlink_to(tmp_path / "notes.md")
    assert sorted(Assets(tmp_path).files) == ["js/a.js"]
    assert file_name("/dashboard") == "index.html" and file_name("/dashboard/login") == "login.html"
    assert file_name("/dashboards/x") is None and file_name("/api/x") is None


def test_every_referenced_file_exists() -> None:
    """Every /dashboard/… URL and relative module import in the HTML and JS names a file of
    the table (a typo would be a 404 only a browser finds)."""
    assets = Assets()
    for name in assets.files:
        if not name.endswith((".html", ".js")) or name.startswith("vendor/"):
            continue
        text = assets.files[name].body.decode()
        for url in re.findall(r'"/dashboard/([\w./-]+\.\w+)"', text):
            assert url in assets.files, f"{name} names /dashboard/{url}"
        for rel in imports(text):
            assert resolve(name, rel) in assets.files, f"{name} imports {rel}"


def test_every_page_is_in_the_navigation_and_the_router() -> None:
    index = (STATIC / "index.html").read_text()
    router = (STATIC / "js" / "app.js").read_text()
    for page in PAGES:
        assert f'href="#/{page}"' in index, page
        assert f'"{page}"' in router, page


@pytest.mark.parametrize("page", PAGES)
def test_each_page_loads_under_300_kb(page: str) -> None:
    """Raw (not gzipped) bytes of the shell, the page's module and what it imports, and the
    chart library when it draws charts. The browser test measures the same in Chromium."""
    assets = Assets()
    names = {*SHELL, f"js/pages/{page}.js"}
    todo = [f"js/pages/{page}.js"]
    while todo:
        name = todo.pop()
        for rel in imports(assets.files[name].body.decode()):
            target = resolve(name, rel)
            if target not in names:
                names.add(target)
                todo.append(target)
    if "js/chart.js" in names:
        names.update(CHART)
    total = sum(len(assets.files[n].body) for n in names)
    assert total < BUDGET, f"{page}: {total} bytes"
    zipped = sum(len(assets.files[n].gzipped or assets.files[n].body) for n in names)
    assert zipped < total


def test_gzip_is_deterministic() -> None:
    asset = Assets().files["js/ui.js"]
    assert asset.gzipped is not None and gzip.decompress(asset.gzipped) == asset.body
