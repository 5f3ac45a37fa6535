"""``media.sniff``: every supported type by its real header, whatever the name says."""

from __future__ import annotations

import pytest

from omniroute.errors import GatewayError
from omniroute.media.sniff import audio_type, check_audio
from tests.support import audio_files


@pytest.mark.parametrize("kind", sorted(audio_files.FILES))
def test_types_by_content(kind: str) -> None:
    data = audio_files.FILES[kind]()
    assert audio_type(data[:64]) == kind
    assert check_audio(f"x.{kind}", data[:64], len(data)) == kind
    assert check_audio("no-extension", data[:64], len(data)) == kind


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a.wav", b"", None), ("a.mp3", audio_files.wav(), "mislabelled_audio"),
    ("a.txt", b"hello there, plain text", "unsupported_audio"),
    ("a.wav", b"RIFF\x00\x00\x00\x00AVI ", "unsupported_audio"),
])
def test_refusals(name: str, data: bytes, code: str | None) -> None:
    with pytest.raises(GatewayError) as caught:
        check_audio(name, data[:64], len(data))
    assert caught.value.status == 400 and caught.value.code == code and caught.value.param == "file"
