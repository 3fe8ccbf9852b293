"""The recorder reads a body only up to a cap, as sent and once decoded, whatever it claims."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from replay.recorder._http import capped_body

LIMIT = 1000
DOC = b'{"status": "inProgress", "percentageComplete": 27.8}'


class Chunks(httpx.AsyncByteStream):
    """A response body arriving in the given chunks."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def read(encoding: str | None, *chunks: bytes) -> tuple[bytes, bool]:
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = httpx.Response(200, headers=headers, stream=Chunks(*chunks))
    return asyncio.run(capped_body(response, LIMIT))


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def halves(data: bytes) -> tuple[bytes, bytes]:
    return data[: len(data) // 2], data[len(data) // 2 :]


BOMB = gzip.compress(b"0" * 10_000_000)  # ten kilobytes sent, ten megabytes decoded

CASES = [
    pytest.param(None, [DOC], DOC, False, id="identity"),
    pytest.param("identity", [*halves(DOC)], DOC, False, id="identity-in-chunks"),
    pytest.param("gzip", [*halves(gzip.compress(DOC))], DOC, False, id="gzip"),
    pytest.param("x-gzip", [gzip.compress(DOC)], DOC, False, id="x-gzip"),
    pytest.param("deflate", [zlib.compress(DOC)], DOC, False, id="deflate-zlib-wrapped"),
    pytest.param("deflate", [*halves(raw_deflate(DOC))], DOC, False, id="deflate-raw"),
    pytest.param("br", [b"\x0b\x80brotli?"], b"\x0b\x80brotli?", False, id="not-asked-for-kept"),
    pytest.param(None, [b"a" * LIMIT], b"a" * LIMIT, False, id="exactly-the-cap"),
    pytest.param(None, [b"a" * LIMIT, b"b"], b"a" * LIMIT, True, id="one-byte-past-the-cap"),
    pytest.param(None, [b"a" * 600] * 1000, b"a" * LIMIT, True, id="long-as-sent"),
    pytest.param("gzip", [BOMB], b"0" * LIMIT, True, id="gzip-bomb"),
    pytest.param("deflate", [zlib.compress(b"0" * LIMIT * 2)], b"0" * LIMIT, True, id="deflate"),
]


@pytest.mark.parametrize(("encoding", "chunks", "body", "cut"), CASES)
def test_a_body_is_decoded_and_cut_at_the_cap(
    encoding: str | None, chunks: list[bytes], body: bytes, cut: bool
) -> None:
    assert read(encoding, *chunks) == (body, cut)


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        pytest.param("gzip", b"not gzip at all", id="gzip"),
        pytest.param("deflate", b"\xff\xfe not deflate", id="deflate"),
    ],
)
def test_a_body_that_does_not_decode_is_a_transport_error(encoding: str, data: bytes) -> None:
    with pytest.raises(httpx.DecodingError, match=rf"bad (raw )?{encoding} body"):
        read(encoding, data)


def test_a_body_already_in_memory_is_cut_at_the_cap_too() -> None:
    response = httpx.Response(200, content=b"a" * (LIMIT + 5))
    assert asyncio.run(capped_body(response, LIMIT)) == (b"a" * LIMIT, True)
