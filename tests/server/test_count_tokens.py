"""``POST /v1/messages/count_tokens`` with the anthropic SDK: an Anthropic row answers with the
upstream's own count, asked at its counting path (not the messages path); any other row gets
the documented local estimate; a bad body is a 400 in Anthropic's dialect."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.support.anthropic_upstream import COUNTED
from tests.support.gateway import RunningGateway

MESSAGES = [{"role": "user", "content": "hi " * 40}]


def sdk(gw: RunningGateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key="x", max_retries=0)


def test_an_anthropic_row_is_asked_at_its_counting_path(matrix_gateway: RunningGateway,
                                                       mocks: dict[str, Any]) -> None:
    mock = mocks["anthropic"]
    before = len(mock.paths)
    counted = sdk(matrix_gateway).messages.count_tokens(model="anthropic/claude-mock", messages=MESSAGES,
                                                         system="be brief")
    assert counted.input_tokens == COUNTED
    assert mock.paths[before:] == ["/v1/messages/count_tokens"]
    assert mock.requests[-1]["model"] == "claude-mock" and mock.requests[-1]["system"] == "be brief"


def test_another_row_gets_the_local_estimate(matrix_gateway: RunningGateway, mocks: dict[str, Any]) -> None:
    before = len(mocks["openai"].requests)
    counted = sdk(matrix_gateway).messages.count_tokens(model="mock/agent", messages=MESSAGES)
    assert 10 < counted.input_tokens < 200 and counted.input_tokens != COUNTED
    assert len(mocks["openai"].requests) == before  # nothing was asked upstream


def test_a_bad_body_is_refused_in_anthropics_words(matrix_gateway: RunningGateway) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        sdk(matrix_gateway).messages.count_tokens(model="anthropic/claude-mock", messages=[{"role": "x",
                                                                                              "content": "hi"}])
    assert info.value.body["type"] == "error" and "role" in info.value.message
