"""Fit a canonical request to the provider row and model it is about to be sent to.

Applied to every translated request (client and upstream formats differ) after model
resolution, before the upstream format encodes it; a same-format request relays bytes and
gets only the ``max_tokens`` clamp (``pipeline.clamp_max_tokens``).

====================================  ====================================================
what the request asks                 when the target cannot take it
====================================  ====================================================
images                                row ``text_only`` or model without vision: 400
                                      ``UNSUPPORTED`` naming ``messages`` (never a silent drop)
``max_tokens`` above the model's      clamped to the limit (``ModelInfo.max_output``)
output limit
reasoning (effort, budget, thinking)  dropped for a model the table knows does not take
                                      reasoning parameters
``cache_control`` hints               dropped unless the row takes them
                                      (``ProviderSpec.cache_hints``)
a forced ``tool_choice`` naming a     400 ``UNSUPPORTED`` naming ``tool_choice`` (the tool —
tool that is not offered              a server or built-in one — cannot be sent there)
====================================  ====================================================

Models the table does not know (``info`` is ``None``) are left as the client asked.
"""

from __future__ import annotations

from omniroute.canonical import ImageBlock, Request, TextBlock, ToolChoiceMode, ToolResultBlock
from omniroute.errors import ErrorKind, GatewayError
from omniroute.providers.models import ModelInfo
from omniroute.providers.specs import ProviderSpec


def fit_request(req: Request, spec: ProviderSpec, model: str, info: ModelInfo | None) -> None:
    """Adjust ``req`` in place for ``spec``/``model`` (see the module table)."""
    check_images(req, spec, model, info)
    if info is not None:
        if info.max_output is not None and req.max_tokens is not None and req.max_tokens > info.max_output:
            req.max_tokens = info.max_output
        if not info.reasoning:
            req.reasoning = None
    if not spec.cache_hints:
        _drop_cache_hints(req)
    choice = req.tool_choice
    if choice is not None and choice.mode is ToolChoiceMode.TOOL and all(t.name != choice.name for t in req.tools):
        raise GatewayError(ErrorKind.UNSUPPORTED, f"tool_choice names '{choice.name}', a tool provider "
                           f"'{spec.id}' cannot be given on this route", param="tool_choice")


def check_images(req: Request, spec: ProviderSpec, model: str, info: ModelInfo | None) -> None:
    """Refuse (400) images for a text-only row or a model without vision."""
    if not spec.text_only and (info is None or info.vision):
        return
    if any(type(b) is ImageBlock for m in req.messages for b in m.content):
        who = f"provider '{spec.id}'" if spec.text_only else f"model '{model}'"
        raise GatewayError(ErrorKind.UNSUPPORTED, f"{who} does not accept images", param="messages")


def _drop_cache_hints(req: Request) -> None:
    for block in req.system:
        block.cache_control = None
    for message in req.messages:
        for block in message.content:
            if type(block) is TextBlock:
                block.cache_control = None
            elif type(block) is ToolResultBlock:
                for part in block.content:
                    if type(part) is TextBlock:
                        part.cache_control = None
