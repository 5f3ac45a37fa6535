"""Roles and provider headers through the real gateway (docs/formats.md, "Roles" and "Provider
headers"), asserted on what each strict mock upstream received.

Roles: an Anthropic ``role: "system"`` turn mid-conversation (under the
``mid-conversation-system-2026-04-07`` beta) reaches the Anthropic row as sent, with its beta;
an Anthropic-format node without that capability gets it folded into the user turn and the
beta taken out. A system message after the first turn — from an Anthropic, OpenAI Chat,
Responses or Ollama client — reaches OpenAI Chat, Responses and Ollama upstreams as a system
message at that position, and any other format's Anthropic or Gemini upstream folded into the
next user turn as ``<system-reminder>`` text. An OpenAI ``developer`` message becomes the system
prompt when it leads and a positioned system message later (and stays ``developer`` on the
pass-through). A role the client's API does not take is a 400 in that API's own words, on a
relayed route as on a translated one, and nothing goes upstream.

Headers: ``anthropic-beta``/``anthropic-version`` reach Anthropic upstreams only (the client's
version replacing the row's, never both), ``openai-beta`` reaches upstreams of the client's
own OpenAI format only; credentials, cookies, hop-by-hop and unknown headers never leave the
gateway — each upstream gets the connection's own key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.client_wire import CLIENT_FORMATS, error_of, post
from tests.support.fleet import UPSTREAMS, sent_headers, start_gateway
from tests.support.gateway import RunningGateway
from tests.support.mock_server import API_KEY

BETA = "mid-conversation-system-2026-04-07"
OTHER_BETA = "context-management-2025-06-27"
NOTE = "From now on, answer in French."
REMINDER = f"<system-reminder>\n{NOTE}\n</system-reminder>"
NODE = "anthro-node/"  # an Anthropic-format node: no mid-conversation system messages


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("roles-gw"), mocks)
    try:
        node = gateway.api("POST", "/api/provider-nodes", {"prefix": NODE[:-1], "name": "Anthropic-compatible",
                                                           "baseUrl": mocks["anthropic"].base_url,
                                                           "type": "anthropic-compatible", "apiType": "messages"})
        assert node.status_code == 201, node.text
        conn = gateway.api("POST", "/api/providers", {"provider": node.json()["node"]["id"], "apiKey": API_KEY})
        assert conn.status_code == 201, conn.text
        yield gateway
    finally:
        gateway.stop()


def _ask(gw: RunningGateway, mocks: dict[str, Any], client: str, upstream: str, body: dict[str, Any],
         headers: dict[str, str] | None = None, model: str | None = None) -> dict[str, Any]:
    """Send; the answer must be a 200; what the upstream received."""
    mock = mocks[upstream]
    before = len(mock.requests)
    resp = post(gw, client, model or UPSTREAMS[upstream].id(), body, headers)
    assert resp.status_code == 200, resp.text
    assert len(mock.requests) == before + 1
    return mock.requests[-1]


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [p.get("text", "") for p in content]


# ── roles ────────────────────────────────────────────────────────────────────────────────

ANTHROPIC_MID_SYSTEM = {
    "max_tokens": 64,
    "messages": [
        {"role": "user", "content": "Hello there."},
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "system", "content": NOTE},
        {"role": "user", "content": "What is the capital of Italy?"},
    ],
}
#: the same conversation as each upstream format should receive it (folded: the note leads the
#: user turn that follows it)
POSITIONED = [("user", "Hello there."), ("assistant", "Hi! How can I help?"), ("system", NOTE),
              ("user", "What is the capital of Italy?")]


def _turns(upstream: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, joined text) per turn, as the upstream received them."""
    if upstream == "gemini":
        return [(c.get("role", "user"), "".join(p.get("text", "") for p in c["parts"])) for c in body["contents"]]
    items = body["input"] if upstream == "responses" else body["messages"]
    return [(m["role"], "".join(_texts(m["content"]))) for m in items]


def test_mid_conversation_system_to_the_anthropic_row_is_relayed_with_its_beta(
    gw: RunningGateway, mocks: dict[str, Any]
) -> None:
    sent = _ask(gw, mocks, "anthropic", "anthropic", ANTHROPIC_MID_SYSTEM, {"anthropic-beta": f"{OTHER_BETA},{BETA}"})
    assert sent["messages"] == ANTHROPIC_MID_SYSTEM["messages"]
    assert sent_headers(mocks["anthropic"])["anthropic-beta"] == [f"{OTHER_BETA},{BETA}"]


def test_mid_conversation_system_to_an_anthropic_node_is_folded_and_the_beta_taken_out(
    gw: RunningGateway, mocks: dict[str, Any]
) -> None:
    sent = _ask(gw, mocks, "anthropic", "anthropic", ANTHROPIC_MID_SYSTEM, {"anthropic-beta": f"{OTHER_BETA},{BETA}"},
                model=NODE + "claude-mock")
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert _texts(sent["messages"][2]["content"]) == [REMINDER, "What is the capital of Italy?"]
    assert sent_headers(mocks["anthropic"])["anthropic-beta"] == [OTHER_BETA]
    _ask(gw, mocks, "anthropic", "anthropic", ANTHROPIC_MID_SYSTEM, {"anthropic-beta": BETA},
         model=NODE + "claude-mock")
    assert "anthropic-beta" not in sent_headers(mocks["anthropic"])


#: the mid-conversation system message as each other client format writes it
MID_SYSTEM = {
    "anthropic": ANTHROPIC_MID_SYSTEM,
    "openai": {"messages": ANTHROPIC_MID_SYSTEM["messages"]},
    "responses": {"input": ANTHROPIC_MID_SYSTEM["messages"]},
    "ollama": {"messages": ANTHROPIC_MID_SYSTEM["messages"], "stream": False},
}
MID_ROUTES = [pytest.param(c, u, id=f"{c}->{u}") for c in MID_SYSTEM for u in UPSTREAMS if u != c]


def assert_mid_system(upstream: str, sent: dict[str, Any]) -> None:
    """A system message at its position where the format has one, else folded into the user
    turn that follows it as ``<system-reminder>`` text (docs/formats.md, Roles)."""
    if upstream in ("openai", "responses", "ollama"):
        assert _turns(upstream, sent) == POSITIONED
        return
    if upstream == "gemini":
        assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
        assert [p["text"] for p in sent["contents"][2]["parts"]] == [REMINDER, "What is the capital of Italy?"]
        assert "systemInstruction" not in sent
        return
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert _texts(sent["messages"][2]["content"]) == [REMINDER, "What is the capital of Italy?"]
    assert "system" not in sent


@pytest.mark.parametrize(("client", "upstream"), MID_ROUTES)
def test_mid_conversation_system_keeps_its_position_or_is_folded(
    gw: RunningGateway, mocks: dict[str, Any], client: str, upstream: str
) -> None:
    headers = {"anthropic-beta": BETA} if client == "anthropic" else None
    assert_mid_system(upstream, _ask(gw, mocks, client, upstream, MID_SYSTEM[client], headers))
    if upstream == "anthropic":  # folded: the translated request needs no beta
        assert "anthropic-beta" not in sent_headers(mocks["anthropic"])


CHAT_DEVELOPER = {
    "messages": [
        {"role": "developer", "content": "Be terse."},
        {"role": "user", "content": "Hello there."},
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "developer", "content": NOTE},
        {"role": "user", "content": "What is the capital of Italy?"},
    ],
}


def test_developer_role_to_openai_is_relayed(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    assert _ask(gw, mocks, "openai", "openai", CHAT_DEVELOPER)["messages"] == CHAT_DEVELOPER["messages"]


@pytest.mark.parametrize("upstream", ["responses", "ollama"])
def test_developer_role_leads_as_system_prompt_then_keeps_its_position(
    gw: RunningGateway, mocks: dict[str, Any], upstream: str
) -> None:
    sent = _ask(gw, mocks, "openai", upstream, CHAT_DEVELOPER)
    if upstream == "responses":
        assert sent["instructions"] == "Be terse."
        assert _turns(upstream, sent) == POSITIONED
    else:
        assert _turns(upstream, sent) == [("system", "Be terse."), *POSITIONED]


def test_developer_role_to_anthropic_and_gemini(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    sent = _ask(gw, mocks, "openai", "anthropic", CHAT_DEVELOPER)
    assert sent.pop("system") == "Be terse."
    assert_mid_system("anthropic", sent)
    sent = _ask(gw, mocks, "openai", "gemini", CHAT_DEVELOPER)
    assert [p["text"] for p in sent.pop("systemInstruction")["parts"]] == ["Be terse."]
    assert_mid_system("gemini", sent)


def test_responses_developer_item_is_relayed_to_responses(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    items = [{"role": "user", "content": "Hello there."}, {"role": "developer", "content": NOTE},
             {"role": "user", "content": "What is the capital of Italy?"}]
    assert _ask(gw, mocks, "responses", "responses", {"input": items})["input"] == items


#: client → (a body with an unknown role, the client's provider's words for it)
BAD_ROLES = {
    "openai": ({"messages": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "x"}]},
               "Invalid value: 'wizard'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', "
               "and 'developer'."),
    "responses": ({"input": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "x"}]},
                  "Invalid value: 'wizard'. Supported values are: 'assistant', 'system', 'developer', and 'user'."),
    "anthropic": ({"max_tokens": 16, "messages": [{"role": "user", "content": "hi"},
                                                  {"role": "wizard", "content": "x"}]},
                  "messages.1.role: Input should be 'user', 'assistant' or 'system'"),
    "gemini": ({"contents": [{"role": "user", "parts": [{"text": "hi"}]},
                             {"role": "wizard", "parts": [{"text": "x"}]}]},
               "Please use a valid role: user, model."),
    "ollama": ({"messages": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "x"}], "stream": False},
               "invalid role 'wizard': must be system, user, assistant or tool"),
}


@pytest.mark.parametrize("upstream", ["same", "other"])
@pytest.mark.parametrize("client", CLIENT_FORMATS)
def test_unknown_role_is_refused_in_the_clients_words(
    gw: RunningGateway, mocks: dict[str, Any], client: str, upstream: str
) -> None:
    """Same answer whether the route would relay the bytes (same format) or translate them."""
    target = client if upstream == "same" else ("anthropic" if client != "anthropic" else "openai")
    body, words = BAD_ROLES[client]
    before = len(mocks[target].requests)
    resp = post(gw, client, UPSTREAMS[target].id(), body)
    assert resp.status_code == 400, resp.text
    error = error_of(client, resp)
    assert error["message"] == words
    if client in ("openai", "responses"):
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_value")
        # the Responses decoder names paths dotted throughout (OpenAI itself writes input[1].role)
        assert error["param"] == {"openai": "messages[1].role", "responses": "input.1.role"}[client]
    if client == "anthropic":
        assert error["type"] == "invalid_request_error"
    if client == "gemini":
        assert error["status"] == "INVALID_ARGUMENT"
    assert len(mocks[target].requests) == before


def test_legacy_function_message_is_refused_by_an_openai_client(gw: RunningGateway, mocks: dict[str, Any]) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}, {"role": "function", "name": "f", "content": "x"}]}
    resp = post(gw, "openai", UPSTREAMS["anthropic"].id(), body)
    assert resp.status_code == 400
    error = error_of("openai", resp)
    assert error["param"] == "messages[1].role" and "function" in error["message"]


# ── headers ──────────────────────────────────────────────────────────────────────────────

MARK = "client-secret-7f3a"
#: what no upstream may ever see: credentials, cookies, hop-by-hop and unknown headers
PRIVATE = {
    "authorization": f"Bearer {MARK}",
    "x-api-key": MARK,
    "x-goog-api-key": MARK,
    "cookie": f"session={MARK}",
    "proxy-authorization": f"Basic {MARK}",
    "keep-alive": f"timeout=5, {MARK}=1",
    "x-hop": MARK,
    "connection": "keep-alive, x-hop",
    "x-custom-header": MARK,
}
#: client → a minimal body
SIMPLE = {
    "openai": {"messages": [{"role": "user", "content": "hi"}]},
    "responses": {"input": "hi"},
    "anthropic": {"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
    "gemini": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    "ollama": {"messages": [{"role": "user", "content": "hi"}], "stream": False},
}
#: upstream → the only credential it should get: the connection's
AUTH = {"openai": ("authorization", f"Bearer {API_KEY}"), "responses": ("authorization", f"Bearer {API_KEY}"),
        "anthropic": ("x-api-key", API_KEY), "gemini": ("x-goog-api-key", API_KEY), "ollama": None}
PROVIDER_HEADERS = {"anthropic-beta": OTHER_BETA, "anthropic-version": "2099-01-01", "openai-beta": "assistants=v2"}
#: (client, upstream) → the provider headers that upstream gets (same format only)
FORWARDED = {("anthropic", "anthropic"): {"anthropic-beta": [OTHER_BETA], "anthropic-version": ["2099-01-01"]},
             ("openai", "openai"): {"openai-beta": ["assistants=v2"]},
             ("responses", "responses"): {"openai-beta": ["assistants=v2"]}}
ROUTES = [pytest.param(c, u, id=f"{c}->{u}") for c in CLIENT_FORMATS for u in UPSTREAMS]


@pytest.mark.parametrize(("client", "upstream"), ROUTES)
def test_only_the_clients_own_provider_headers_are_forwarded(
    gw: RunningGateway, mocks: dict[str, Any], client: str, upstream: str
) -> None:
    _ask(gw, mocks, client, upstream, SIMPLE[client], {**PRIVATE, **PROVIDER_HEADERS})
    got = sent_headers(mocks[upstream])
    forwarded = FORWARDED.get((client, upstream), {})
    for name in PROVIDER_HEADERS:
        if name in forwarded:
            assert got[name] == forwarded[name], name
        elif name == "anthropic-version" and upstream == "anthropic":
            assert got[name] == ["2023-06-01"]  # the row's own, not the client's
        else:
            assert name not in got, name


@pytest.mark.parametrize(("client", "upstream"), ROUTES)
def test_client_credentials_and_hop_by_hop_headers_never_leave(
    gw: RunningGateway, mocks: dict[str, Any], client: str, upstream: str
) -> None:
    _ask(gw, mocks, client, upstream, SIMPLE[client], PRIVATE)
    got = sent_headers(mocks[upstream])
    leaked = {name: values for name, values in got.items() if any(MARK in v for v in values)}
    assert not leaked
    assert not {"cookie", "proxy-authorization", "x-hop", "x-custom-header", "keep-alive"} & got.keys()
    credentials = {n: got[n] for n in ("authorization", "x-api-key", "x-goog-api-key") if n in got}
    expected = AUTH[upstream]
    assert credentials == ({expected[0]: [expected[1]]} if expected else {})
