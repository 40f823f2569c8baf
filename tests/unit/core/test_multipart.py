"""multipart/related bodies (RFC 2046 §5.1, RFC 2387; PS3.18 §8.6.1.2) (``multipart``).

The parser must give the same parts however the body is cut into chunks, so most tests
feed the body in every chunk size from one byte to the whole body.
"""

from __future__ import annotations

import pytest

from cloudpacs.errors import BadRequest
from cloudpacs.multipart import MultipartParser, Part, boundary_of, encode_parts, new_boundary

BOUNDARY = "b0undary-42"


def parse(body: bytes, chunk: int | None = None, boundary: str = BOUNDARY) -> list[Part]:
    parser = MultipartParser(boundary)
    size = chunk or len(body) or 1
    for start in range(0, len(body), size):
        parser.feed(body[start : start + size])
    return parser.close()


def parse_every_way(body: bytes, boundary: str = BOUNDARY) -> list[Part]:
    """Parse ``body`` in every chunk size; all must agree. Returns the parts."""
    whole = parse(body, boundary=boundary)
    for size in range(1, len(body) + 1):
        assert parse(body, size, boundary) == whole, f"chunk size {size}"
    return whole


BODIES = [
    b"",
    b"x",
    b"\r\n",
    b"ends with CR\r",
    b"--" + BOUNDARY.encode() + b" but not at the start of a line",
    b"line\r\n-" + BOUNDARY.encode(),
    b"\r\n\r\nblank lines first",
    bytes(range(256)),
]


def test_encode_then_parse_round_trips_in_every_chunk_size() -> None:
    """RFC 2046 §5.1.1: the CRLF before a boundary delimiter belongs to the delimiter, so part
    bodies come back byte for byte."""
    body = b"".join(encode_parts((("application/dicom", [b[:3], b[3:]]) for b in BODIES), BOUNDARY))
    parts = parse_every_way(body)
    assert [p.body for p in parts] == BODIES
    assert all(p.headers == {"content-type": "application/dicom"} for p in parts)
    assert all(p.content_type == "application/dicom" for p in parts)


def test_encode_parts_layout() -> None:
    body = b"".join(encode_parts([("text/plain", [b"a", b"b"]), ("application/json", [])], "B"))
    assert body == (
        b"--B\r\nContent-Type: text/plain\r\n\r\nab\r\n"
        b"--B\r\nContent-Type: application/json\r\n\r\n\r\n"
        b"--B--\r\n"
    )


def test_boundary_split_across_chunks() -> None:
    body = b"".join(encode_parts([("application/dicom", [b"A" * 100])], BOUNDARY))
    delimiter_at = body.index(b"\r\n--" + BOUNDARY.encode(), 10)
    for cut in range(delimiter_at - 2, delimiter_at + len(BOUNDARY) + 6):
        parser = MultipartParser(BOUNDARY)
        parser.feed(body[:cut])
        parser.feed(body[cut:])
        assert [p.body for p in parser.close()] == [b"A" * 100], cut


def test_preamble_and_epilogue_are_ignored() -> None:
    """RFC 2046 §5.1.1: text before the first boundary and after the closing one is
    discarded."""
    body = (
        b"This is the preamble.\r\nIt has --two lines.\r\n"
        b"--" + BOUNDARY.encode() + b"\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n"
        b"--" + BOUNDARY.encode() + b"--\r\nThis is the epilogue.\r\n--" + BOUNDARY.encode()
    )
    assert [p.body for p in parse_every_way(body)] == [b"DICM"]


def test_transport_padding_after_boundaries() -> None:
    """RFC 2046 §5.1.1: "dash-boundary transport-padding CRLF", padding being linear white
    space the receiver must ignore."""
    body = (
        b"--" + BOUNDARY.encode() + b" \t \r\nContent-Type: a/b\r\n\r\none\r\n"
        b"--" + BOUNDARY.encode() + b"  \r\nContent-Type: a/b\r\n\r\ntwo\r\n"
        b"--" + BOUNDARY.encode() + b"--  \r\n"
    )
    assert [p.body for p in parse_every_way(body)] == [b"one", b"two"]


def test_parts_without_headers() -> None:
    """RFC 2046 §5.1.1: a body part with no header fields starts with a blank line, and its
    content is typed text/plain by default."""
    body = (
        b"--" + BOUNDARY.encode() + b"\r\n\r\nno headers\r\n"
        b"--" + BOUNDARY.encode() + b"\r\n\r\nbody with\r\n\r\na blank line\r\nX: not a header\r\n"
        b"--" + BOUNDARY.encode() + b"\r\nContent-Type: a/b\r\n\r\nwith\r\n\r\n"
        b"--" + BOUNDARY.encode() + b"--"
    )
    parts = parse_every_way(body)
    assert [p.body for p in parts] == [
        b"no headers",
        b"body with\r\n\r\na blank line\r\nX: not a header",
        b"with\r\n",
    ]
    assert [p.headers for p in parts] == [{}, {}, {"content-type": "a/b"}]


def test_header_names_are_lower_case_and_values_trimmed() -> None:
    body = (
        b"--B\r\nContent-Type:  application/dicom; transfer-syntax=1.2.840.10008.1.2.1 \r\n"
        b"CONTENT-LOCATION: /x\r\n\r\nv\r\n--B--"
    )
    (part,) = parse_every_way(body, "B")
    assert part.headers == {
        "content-type": "application/dicom; transfer-syntax=1.2.840.10008.1.2.1",
        "content-location": "/x",
    }


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"no boundary at all",
        b"--B\r\nContent-Type: a/b\r\n\r\nunfinished",
        b"--B\r\nContent-Type: a/b\r\n\r\npart\r\n--B\r\n",
        b"--B\r\nContent-Type: a/b\r\n",
        b"--B",
    ],
)
def test_a_body_without_its_closing_boundary_is_a_bad_request(body: bytes) -> None:
    """RFC 2046 §5.1.1: the last body part is followed by the close-delimiter; a body that
    ends before it was cut short."""
    with pytest.raises(BadRequest, match="closing boundary"):
        parse(body, boundary="B")


def test_a_malformed_header_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="malformed multipart part header"):
        parse(b"--B\r\nnot a header line\r\n\r\nbody\r\n--B--", boundary="B")


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ('multipart/related; type="application/dicom"; boundary=abc', "abc"),
        ('multipart/related; boundary="a b:c"; type="application/dicom"', "a b:c"),
        ("multipart/related; BOUNDARY=xyz", "xyz"),
        ("multipart/related; boundary=xyz ; type=application/dicom", "xyz"),
        ("multipart/related;boundary=xyz", "xyz"),
    ],
)
def test_boundary_of_content_type(content_type: str, boundary: str) -> None:
    """RFC 2046 §5.1.1: the boundary parameter, quoted or a token, possibly among others."""
    assert boundary_of(content_type) == boundary


def test_content_type_without_boundary_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="no boundary"):
        boundary_of('multipart/related; type="application/dicom"')


def test_new_boundaries_are_unique_and_valid() -> None:
    """RFC 2046 §5.1.1: at most 70 characters from a restricted set."""
    boundaries = {new_boundary() for _ in range(100)}
    assert len(boundaries) == 100
    for b in boundaries:
        assert len(b) <= 70
        assert all(c.isalnum() or c in "'()+_,-./:=?" for c in b)


def test_a_large_part_in_small_chunks() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, holds CR, LF and "-" everywhere
    body = b"".join(encode_parts([("application/dicom", [payload])] * 2, BOUNDARY))
    assert [p.body for p in parse(body, 4093)] == [payload, payload]
