"""``omniroute.canonical.envelope``: round trips, what is never an envelope, malformed input."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniroute.canonical import SignatureDelta, ThinkingBlock
from omniroute.canonical.envelope import (
    Carried,
    client_call_id,
    client_signature,
    collect,
    decode_signature,
    decode_thinking,
    is_own,
    pack,
    pack_b64,
    pack_call_id,
    unpack,
    unpack_b64,
    unpack_call_id,
    upstream_signature,
)

ANTHROPIC_SIG = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkZ+/WvA=="
RESPONSES_SIG = "gAAAAABpH-_7bW9jayBlbmNyeXB0ZWQgcmVhc29uaW5nIH5-Pj4_Pw=="
GEMINI_SIG = "pU3KGCUwux1tEyze1iN7LtkeP3IfyxlxF0SU1kk8nVw0YL4xIB5p/tqg7ui5mX9cfCmZ/a/lkyU81lSvTfrXFCeg"
ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]+$")  # Anthropic's rule for tool_use ids

sources = st.sampled_from(["anthropic", "gemini", "openai_responses", "openai_chat", "ollama"])
ids = st.none() | st.text(max_size=40)
payloads = st.none() | st.text(min_size=1, max_size=200)
call_ids = st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)


# ── round trips ──────────────────────────────────────────────────────────────────────────


@given(sources, ids, payloads)
def test_text_envelope_round_trips(source: str, item_id: str | None, payload: str | None) -> None:
    packed = pack(Carried(source, item_id, payload))
    assert packed.startswith("omr1." + source + ".")
    assert unpack(packed) == Carried(source, item_id, payload)


@given(sources, ids, payloads)
def test_base64_envelope_round_trips_in_any_base64_spelling(source: str, item_id: str | None,
                                                            payload: str | None) -> None:
    packed = pack_b64(Carried(source, item_id, payload))
    raw = base64.b64decode(packed)
    for spelling in (packed, base64.urlsafe_b64encode(raw).decode(), packed.rstrip("=")):  # how SDKs re-encode
        assert unpack_b64(spelling) == Carried(source, item_id, payload)


@given(call_ids, sources, st.text(min_size=1, max_size=300))
def test_call_id_envelope_round_trips_and_keeps_anthropic_id_rules(call_id: str, source: str, sig: str) -> None:
    packed = pack_call_id(call_id, Carried(source, None, sig))
    assert ANTHROPIC_ID.match(packed)
    assert unpack_call_id(packed) == (call_id, Carried(source, None, sig))


@pytest.mark.parametrize("sig", [GEMINI_SIG, "R2VtaW5pVGhvdWdodFNpZ25hdHVyZTAx", "c2lnMQ==", ANTHROPIC_SIG])
def test_call_id_envelope_of_base64_signature_does_not_grow(sig: str) -> None:
    packed = pack_call_id("gcall_0123456789abcdef", Carried("gemini", None, sig))
    assert len(packed) <= len("gcall_0123456789abcdef__omr1gb") + len(sig)
    assert unpack_call_id(packed) == ("gcall_0123456789abcdef", Carried("gemini", None, sig))


def test_item_ids_with_dots_or_other_characters_survive_readably_when_they_can() -> None:
    assert pack(Carried("openai_responses", "rs_68b1c5", "x")) == "omr1.openai_responses.rs_68b1c5.x"
    for item_id in ("a.b.c", "", "ü ~", "~x"):
        assert unpack(pack(Carried("openai_responses", item_id, "p.q.r"))) == Carried("openai_responses", item_id,
                                                                                      "p.q.r")


def test_call_id_without_a_known_source_or_payload_stays_plain() -> None:
    assert pack_call_id("call_1", Carried("vertex", None, "sig")) == "call_1"
    assert pack_call_id("call_1", Carried("gemini", None, None)) == "call_1"


# ── genuine values are never envelopes ───────────────────────────────────────────────────


@pytest.mark.parametrize("value", [ANTHROPIC_SIG, RESPONSES_SIG, GEMINI_SIG, "sig", "", "omr1", "omr1x.a.b.c"])
def test_provider_signatures_are_not_envelopes(value: str) -> None:
    assert unpack(value) is None
    assert unpack_b64(value) is None
    assert unpack_call_id("toolu_01A09q90qw90lq917835lq9") == ("toolu_01A09q90qw90lq917835lq9", None)


@given(st.binary(max_size=64).filter(lambda b: not b.startswith(b"omr1.")))
def test_gemini_signature_bytes_are_not_envelopes(raw: bytes) -> None:
    assert unpack_b64(base64.b64encode(raw).decode()) is None


# ── malformed input: an opaque value, never an exception ─────────────────────────────────


@pytest.mark.parametrize("value", [
    "omr1.", "omr1.gemini", "omr1.gemini.x", "omr1..id.payload", "omr1.Gemini.id.p", "omr1.gem ini.id.p",
    "omr1.gemini.bad id.p", "omr1.gemini.~***.p", "omr1.gemini.~_w.p",
])
def test_malformed_text_envelopes_are_not_unpacked(value: str) -> None:
    assert unpack(value) is None
    block = decode_thinking("t", value, "anthropic")
    assert block == ThinkingBlock("t", value, signature_source="anthropic")  # the client format's own, opaque


@pytest.mark.parametrize("value", [
    "b21yMS4", "b21yMS4=!", base64.b64encode(b"omr1.x").decode(), base64.b64encode(b"omr1.\xff\xfe.a.b").decode(),
])
def test_malformed_base64_envelopes_are_not_unpacked(value: str) -> None:
    assert unpack_b64(value) is None
    assert decode_signature(value, "gemini", b64=True) == (value, "gemini")


@pytest.mark.parametrize("value", [
    "call_1__omr1", "call_1__omr1g", "call_1__omr1zbAAAA", "call_1__omr1gxAAAA", "call_1__omr1gb!!!!",
    "call_1__omr1gt" + base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="), "call_1__omr1gbA",
])
def test_malformed_call_id_envelopes_are_plain_ids(value: str) -> None:
    assert unpack_call_id(value) == (value, None)


@given(st.text(max_size=300))
def test_unpacking_never_raises(value: str) -> None:
    unpack(value)
    unpack_b64(value)
    call_id, carried = unpack_call_id(value)
    assert carried is not None or call_id == value
    decode_thinking("", value, "anthropic", b64=False)
    decode_thinking("", value, "gemini", b64=True)


# ── what the format modules call ─────────────────────────────────────────────────────────


def test_own_signatures_go_out_byte_identical_and_foreign_ones_packed() -> None:
    assert is_own(None, "anthropic") and is_own("anthropic", "anthropic") and not is_own("gemini", "anthropic")
    assert client_signature("anthropic", "anthropic", ANTHROPIC_SIG) == ANTHROPIC_SIG
    assert client_signature("anthropic", None, "hand-built") == "hand-built"
    packed = client_signature("anthropic", "openai_responses", RESPONSES_SIG, "rs_1")
    assert packed == f"omr1.openai_responses.rs_1.{RESPONSES_SIG}"
    assert client_signature("anthropic", "openai_responses", None, "rs_1") == "omr1.openai_responses.rs_1."
    assert client_signature("anthropic", "gemini", None) is None  # nothing to carry
    assert unpack_b64(client_signature("gemini", "anthropic", ANTHROPIC_SIG, b64=True) or "") == Carried(
        "anthropic", None, ANTHROPIC_SIG)


def test_upstreams_get_only_their_own_signatures() -> None:
    assert upstream_signature("gemini", "gemini", GEMINI_SIG) == GEMINI_SIG
    assert upstream_signature("gemini", None, GEMINI_SIG) == GEMINI_SIG
    assert upstream_signature("gemini", "anthropic", ANTHROPIC_SIG) is None


def test_decode_thinking_restores_the_producer() -> None:
    packed = client_signature("anthropic", "openai_responses", RESPONSES_SIG, "rs_1")
    assert decode_thinking("t", packed, "anthropic") == ThinkingBlock("t", RESPONSES_SIG, "rs_1", "openai_responses")
    assert decode_thinking("t", ANTHROPIC_SIG, "anthropic") == ThinkingBlock("t", ANTHROPIC_SIG,
                                                                             signature_source="anthropic")
    assert decode_thinking("t", None, "anthropic") == ThinkingBlock("t")
    assert decode_thinking("t", RESPONSES_SIG, "openai_responses", "") == ThinkingBlock("t", RESPONSES_SIG, "",
                                                                                         "openai_responses")


def test_client_call_ids() -> None:
    assert client_call_id("anthropic", "toolu_1", None, None) == "toolu_1"
    assert client_call_id("anthropic", "toolu_1", None, "sig") == "toolu_1"  # unknown provenance: no slot
    assert client_call_id("gemini", "call_1", "gemini", GEMINI_SIG) == "call_1"  # Gemini's own: on the part
    packed = client_call_id("anthropic", "gcall_1", "gemini", GEMINI_SIG)
    assert unpack_call_id(packed) == ("gcall_1", Carried("gemini", None, GEMINI_SIG))


def test_collect_appends_signature_pieces() -> None:
    held = collect(None, SignatureDelta("abc", "openai_responses"))
    held = collect(held, SignatureDelta("def"))
    assert held == ThinkingBlock(signature="abcdef", signature_source="openai_responses")
