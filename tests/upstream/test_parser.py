"""``omniroute.upstream.parser``: the response parser alone (llhttp underneath), no sockets.

Splits anywhere, every framing, the reuse rules and what is refused as malformed; the same
behaviours through real sockets are in test_pool.py and test_connection.py.
"""

from __future__ import annotations

import pytest

from omniroute.upstream.parser import MAX_HEAD, ParseError, ResponseParser
from tests.upstream.servers import CHUNKED_PIECES

OK_5 = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def parsed(*parts: bytes, head_only: bool = False) -> ResponseParser:
    parser = ResponseParser()
    parser.start(head_only)
    for part in parts:
        parser.feed(part)
    return parser


# -- split reads ----------------------------------------------------------------------------


def test_parser_every_two_way_split() -> None:
    raw = b"".join(CHUNKED_PIECES)
    for i in range(1, len(raw)):
        for j in range(i, len(raw)):
            parser = ResponseParser()
            for part in (raw[:i], raw[i:j], raw[j:]):
                parser.feed(part)
            assert parser.complete and not parser.extra, (i, j)
            assert parser.take() == "hello café0123456789ABCDEF".encode(), (i, j)


def test_parser_byte_by_byte_content_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nX-Pad: \t a b \t\r\n\r\nhello"
    parser = ResponseParser()
    for i in range(len(raw)):
        parser.feed(raw[i : i + 1])
    assert parser.complete and parser.keep_alive
    assert parser.headers == {"content-length": "5", "x-a": "1, 2", "x-pad": "a b"}
    assert parser.take() == b"hello"


def test_head_and_body_in_one_read_and_pieces_as_they_came() -> None:
    parser = parsed(OK_5)
    assert (parser.status, parser.complete, parser.keep_alive, parser.buffered) == (200, True, True, 5)
    assert parser.take() == b"hello" and parser.buffered == 0
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", b"l", b"lo")
    assert parser.pieces == [b"he", b"l", b"lo"] and parser.buffered == 5


def test_header_values_are_latin1_and_names_lower_case() -> None:
    parser = parsed(b"HTTP/1.1 201 Created\r\nX-Word: caf\xc3\xa9\r\nCONTENT-LENGTH: 0\r\n\r\n")
    assert parser.status == 201 and parser.complete
    assert parser.headers == {"x-word": "caf\xc3\xa9", "content-length": "0"}  # bytes as latin-1, like http.client


def test_status_line_without_reason_phrase() -> None:
    assert parsed(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").status == 200


# -- framing --------------------------------------------------------------------------------


def test_chunked_trailers_are_dropped() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n")
    assert parser.complete and parser.keep_alive and not parser.extra
    assert parser.headers == {"transfer-encoding": "chunked"}
    assert parser.take() == b"abc"


def test_close_delimited_body_ends_at_eof() -> None:
    for head in (b"HTTP/1.1 200 OK\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n",
                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"):
        parser = parsed(head, b"hel", b"lo")
        assert not parser.complete and not parser.keep_alive, head
        assert parser.feed_eof() and parser.take() == b"hello", head


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Len",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
    ],
)
def test_eof_before_the_end_is_not_complete(raw: bytes) -> None:
    parser = parsed(raw)
    assert not parser.feed_eof() and not parser.complete


def test_interim_1xx_skipped() -> None:
    parser = parsed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert (parser.status, parser.headers, parser.take()) == (200, {"content-length": "2"}, b"ok")
    assert parser.complete and parser.keep_alive


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    parser = parsed(f"HTTP/1.1 {status} X\r\nContent-Length: 99\r\n\r\n".encode())
    assert parser.complete and parser.keep_alive and parser.take() == b""


def test_head_response_has_no_body_and_the_parser_starts_afresh() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", head_only=True)
    assert parser.complete and parser.keep_alive and not parser.extra and parser.take() == b""
    parser.start(False)  # the same connection's next response
    parser.feed(OK_5)
    assert parser.complete and parser.take() == b"hello"
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nbody?", head_only=True)
    assert parser.complete and parser.extra
    parser = parsed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", head_only=True)
    assert parser.complete and not parser.keep_alive


# -- reuse rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "keep_alive"),
    [
        (OK_5, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: Foo, Close\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", False),  # 1.1 only
    ],
)
def test_keep_alive(raw: bytes, keep_alive: bool) -> None:
    parser = parsed(raw)
    assert parser.complete and parser.keep_alive is keep_alive


def test_bytes_after_the_response_are_extra_not_body() -> None:
    for parts in ((OK_5 + b"EXTRA",), (OK_5, b"E"), (OK_5 + b"HTTP/1.1 2",),
                  (OK_5 + b"HTTP/1.1 404 Not Found\r\nX-Other: 1\r\nContent-Length: 0\r\n\r\n",),
                  (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhelloEXTRA",)):
        parser = parsed(*parts)
        assert parser.complete and parser.extra, parts
        assert (parser.status, parser.take()) == (200, b"hello"), parts
        assert "x-other" not in parser.headers


def test_reused_for_the_next_response() -> None:
    """llhttp carries on at the next message (an empty line between two is skipped, RFC 9112 §2.2)."""
    parser = parsed(OK_5 + b"\r\n")
    assert parser.complete and not parser.extra
    for raw in (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", OK_5):
        parser.start(False)
        parser.feed(raw)
        assert parser.complete and parser.keep_alive and not parser.extra
    assert parser.take() == b"hello"


def test_a_sized_body_over_several_reads_keeps_each_read_as_it_came() -> None:
    """Past the first read, a ``Content-Length`` body's reads are kept as the very objects
    read (no copy), it ends at the length exactly, and the parser then reads a new response."""
    reads = [b"b" * 70_000, b"c" * 100_000, b"d" * 30_000]
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 200005\r\n\r\nhello", reads[0], reads[1])
    assert not parser.complete and parser.buffered == 170_005
    assert parser.pieces[1] is reads[0] and parser.pieces[2] is reads[1]
    parser.take()
    parser.feed(reads[2])
    assert parser.complete and parser.keep_alive and not parser.extra
    assert parser.pieces == [reads[2]] and parser.take() == reads[2]
    parser.start(False)
    for part in (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", b"0\r\n\r\n"):
        parser.feed(part)
    assert parser.complete and parser.status == 201 and parser.take() == b"ab"


def test_a_sized_body_with_bytes_beyond_it_in_a_later_read() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nhel", b"lo worldHTTP/1.1 200 OK\r\n")
    assert parser.complete and parser.extra
    assert parser.take() == b"hello wo"


def test_a_sized_body_read_into_a_reused_buffer_is_kept_as_a_copy() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab")
    buffer = bytearray(b"cdef")
    parser.feed(memoryview(buffer))
    buffer[:] = b"XXXX"
    assert parser.complete and parser.take() == b"abcdef"


def test_a_sized_body_cut_short_is_not_complete_at_eof() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel", b"lo")
    assert not parser.feed_eof() and not parser.complete


def test_a_chunked_body_over_several_reads_is_still_de_chunked() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", b"2\r\nde\r\n",
                    b"0\r\n\r\n")
    assert parser.complete and parser.take() == b"abcde"


# -- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 OK\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        # refused since the parser is llhttp (the hand-written one accepted these)
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b\r\n\r\n",  # obs-fold
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
        b"HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_parser_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        ResponseParser().feed(raw)


def test_malformed_is_refused_whatever_the_split() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    for i in range(1, len(raw)):
        parser = ResponseParser()
        with pytest.raises(ParseError, match="Transfer-Encoding"):
            parser.feed(raw[:i])
            parser.feed(raw[i:])


def test_reasons_name_the_fault() -> None:
    for raw, reason in ((b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected status 101"),
                        (b"HTTP/2.0 200 OK\r\n\r\n", "unsupported version HTTP/2.0"),
                        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length")):
        with pytest.raises(ParseError, match=reason):
            ResponseParser().feed(raw)


# -- size bound -----------------------------------------------------------------------------


def test_head_bound_across_reads_and_in_one_read() -> None:
    parser = parsed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ParseError, match=str(MAX_HEAD)):
        for _ in range(MAX_HEAD // 1000 + 1):
            parser.feed(b"X: " + b"a" * 997)  # a head that never ends
    with pytest.raises(ParseError):
        parsed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n")


def test_trailers_and_chunk_extensions_are_bounded() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    with pytest.raises(ParseError):
        parsed(chunked + b"3\r\nabc\r\n0\r\n", *[b"X-T: " + b"t" * 995 + b"\r\n"] * 70)
    with pytest.raises(ParseError):
        parsed(chunked + b"3;", *[b"e" * 1000] * 70)


def test_a_big_body_is_not_a_big_head() -> None:
    body = b"x" * (4 * MAX_HEAD)
    parser = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert parser.complete and parser.take() == body
    sse = b"".join(b"%x\r\n%s\r\n" % (len(b"data: 1\n\n"), b"data: 1\n\n") for _ in range(20_000))
    parser = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", sse, b"0\r\n\r\n")
    assert parser.complete and parser.buffered == 20_000 * 9

