"""The five strict mock upstreams, and a real gateway connected to all of them.

Shared by the cross-format matrix (``tests/server/test_matrix.py``) and the gateway-level
tests of strict bodies, roles, headers, fitting and model ids: one mock per upstream format
(``tests/support/*_upstream.py``), each reached through the gateway by a model-id prefix:

==========  =====================================  ==========================  ============
upstream    mock                                   connection                  client id
==========  =====================================  ==========================  ============
openai      ``OpenAIUpstream`` (Chat Completions)  custom node, prefix mock    mock/agent
anthropic   ``AnthropicUpstream``                  row ``anthropic``           anthropic/…
gemini      ``GeminiUpstream``                     row ``gemini``              gemini/…
ollama      ``OllamaUpstream``                     row ``ollama``              ollama/…
responses   ``ResponsesUpstream``                  row ``openai-responses``    responses/…
==========  =====================================  ==========================  ============
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import anthropic_upstream, gemini_upstream, responses_upstream
from tests.support.anthropic_upstream import AnthropicUpstream
from tests.support.gateway import RunningGateway
from tests.support.gemini_upstream import GeminiUpstream
from tests.support.mock_server import API_KEY
from tests.support.ollama_upstream import OllamaUpstream
from tests.support.openai_upstream import OpenAIUpstream
from tests.support.responses_upstream import ResponsesUpstream


@dataclass(frozen=True)
class Upstream:
    name: str
    prefix: str  # how a client names its models
    model: str
    call_id: str | None  # the id its tool call carries (None: the format has none)
    signature: str | None  # the signature its thinking carries (None: it signs nothing)

    def id(self, model: str | None = None) -> str:
        return self.prefix + (model or self.model)


UPSTREAMS = {
    u.name: u
    for u in (
        Upstream("openai", "mock/", "agent", "call_mock01", None),
        Upstream("anthropic", "anthropic/", "claude-mock", anthropic_upstream.TOOL_ID, anthropic_upstream.SIGNATURE),
        Upstream("gemini", "gemini/", "gemini-mock", None, gemini_upstream.SIGNATURE),
        Upstream("ollama", "ollama/", "llama-mock", None, None),
        Upstream("responses", "responses/", "gpt-mock", responses_upstream.CALL_ID, responses_upstream.SIGNATURE),
    )
}

#: upstream name → the built-in provider row its connection uses (openai: a custom node)
ROWS = {"anthropic": "anthropic", "gemini": "gemini", "responses": "openai-responses", "ollama": "ollama"}


def start_mocks() -> dict[str, Any]:
    """One running mock per upstream format, by upstream name."""
    return {
        "openai": OpenAIUpstream().start(),
        "anthropic": AnthropicUpstream().start(),
        "gemini": GeminiUpstream().start(),
        "ollama": OllamaUpstream().start(),
        "responses": ResponsesUpstream().start(),
    }


def stop_mocks(mocks: dict[str, Any]) -> None:
    for server in mocks.values():
        server.stop()


def connect(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    """Give ``gw`` one connection per mock (the table above)."""
    gw.add_openai_upstream(mocks["openai"].base_url, prefix="mock", api_key=API_KEY)
    for name, provider in ROWS.items():
        conn = gw.api("POST", "/api/providers", {"provider": provider, "apiKey": API_KEY,
                                                 "baseUrl": mocks[name].base_url})
        assert conn.status_code == 201, conn.text


def start_gateway(data_dir: Path, mocks: dict[str, Any]) -> RunningGateway:
    """A real gateway (short timeouts, so fault tests are quick) connected to every mock."""
    gw = RunningGateway(data_dir, "--first-byte-timeout", "3", "--stream-idle-timeout", "3", "--connect-timeout", "2")
    try:
        connect(gw, mocks)
    except BaseException:
        gw.stop()
        raise
    return gw


def sent_headers(mock: Any, index: int = -1) -> dict[str, list[str]]:
    """The headers of the mock's request ``index``: lower-cased name → every value sent."""
    out: dict[str, list[str]] = {}
    for name, value in mock.header_lists[index]:
        out.setdefault(name, []).append(value)
    return out
