"""Frame byte ranges recorded at ingest (PS3.5 §8.2 native, §A.4 encapsulated) (``dicom.frames``).

The frame table must give exactly the bytes pydicom yields for each frame: for encapsulated
Pixel Data ``pydicom.encaps.generate_frames`` (with the Extended Offset Table when there is
one), for native Pixel Data the slice of the Pixel Data value.
"""

from __future__ import annotations

import io
import struct
import warnings

import pydicom
import pytest
from pydicom.dataset import FileDataset
from pydicom.encaps import encapsulate, fragment_frame, generate_frames
from pydicom.uid import JPEGBaseline8Bit

from cloudpacs.dicom.frames import join_fragments
from cloudpacs.dicom.parse import parse_instance
from cloudpacs.errors import InvalidDicom
from cloudpacs.model import FrameTable

from .conftest import DataFile
from .instances import sample, to_bytes

# Files whose frames are not addressable by byte ranges, and why.
NO_FRAME_TABLE = {
    "badVR.dcm": "Number of Frames is '1A', not an integer: the frame count is unknown",
    "image_dfl.dcm": "Deflated Explicit VR Little Endian: no byte offsets in the stored object",
    "MR_truncated.dcm": "Pixel Data is cut short: its declared length runs past the end",
}


def frame_bytes(data: bytes, table: FrameTable, number: int) -> bytes:
    """What retrieval does: one ranged read spanning the frame's fragments, then join."""
    ranges = table.ranges(number)
    start, end = ranges[0][0], ranges[-1][0] + ranges[-1][1]
    assert 0 <= start <= end <= len(data)
    return join_fragments(data[start:end], ranges)


def expected_frames(ds: FileDataset) -> list[bytes]:
    """The frames pydicom yields for ``ds``."""
    count = int(ds.get("NumberOfFrames") or 1)
    if ds.file_meta.TransferSyntaxUID.is_encapsulated:
        eot = None
        if "ExtendedOffsetTable" in ds:
            eot = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
        return list(generate_frames(ds.PixelData, number_of_frames=count, extended_offsets=eot))
    pixels = ds.PixelData
    length = native_frame_length(ds)
    return [pixels[n * length : (n + 1) * length] for n in range(count)]


def native_frame_length(ds: FileDataset) -> int:
    """PS3.5 §8.2: Rows × Columns × Samples × Bits Allocated / 8 (2/3 of it for YBR 4:2:2)."""
    bits = int(ds.Rows) * int(ds.Columns) * int(ds.SamplesPerPixel) * int(ds.BitsAllocated)
    if ds.get("PhotometricInterpretation") == "YBR_FULL_422":
        bits = bits * 2 // 3
    assert bits % 8 == 0
    return bits // 8


def check_frames(data: bytes, table: FrameTable, ds: FileDataset) -> None:
    expected = expected_frames(ds)
    assert table.count == len(expected)
    got = [frame_bytes(data, table, n) for n in range(1, table.count + 1)]
    assert got == expected


def test_every_pydicom_file_with_pixel_data(pydicom_files: tuple[DataFile, ...]) -> None:
    """Every file pydicom ships that ingest accepts and that holds Pixel Data: the frame table
    gives exactly pydicom's frames, or is absent for a reason listed in NO_FRAME_TABLE."""
    checked: list[str] = []
    without: dict[str, str] = {}
    for f in pydicom_files:
        try:
            record = parse_instance(f.data).record
        except InvalidDicom:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(f.data))
        if "PixelData" not in ds:
            assert record.frames is None, f.name
            continue
        if record.frames is None:
            without[f.name] = NO_FRAME_TABLE.get(f.name, "unexplained")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_frames(f.data, record.frames, ds)
        checked.append(f.name)
    assert {n: r for n, r in without.items() if r == "unexplained"} == {}
    assert len(checked) >= 60, checked  # pydicom's own folder alone holds more than 60
    assert {"liver_1frame.dcm", "SC_rgb_rle_2frame.dcm", "JPEG2000.dcm"} <= set(checked)


def test_every_pydicom_file_header_length_points_at_pixel_data(
    pydicom_files: tuple[DataFile, ...],
) -> None:
    """``header_length`` is where the top-level Pixel Data element starts: the prefix before
    it parses to the same header as the whole object read without pixels. Without Pixel Data,
    or in a deflated object (no byte offsets), it is the whole object."""
    checked = 0
    for f in pydicom_files:
        try:
            record = parse_instance(f.data).record
        except InvalidDicom:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = pydicom.dcmread(io.BytesIO(f.data), stop_before_pixels=True)
            deflated = record.transfer_syntax_uid == "1.2.840.10008.1.2.1.99"
            if deflated or "PixelData" not in pydicom.dcmread(io.BytesIO(f.data)):
                assert record.header_length == len(f.data), f.name
                continue
            head = pydicom.dcmread(io.BytesIO(f.data[: record.header_length]))
        tag = f.data[record.header_length : record.header_length + 4]
        assert tag in (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10"), f.name
        assert [e.tag for e in head] == [e.tag for e in full], f.name
        checked += 1
    assert checked >= 60


def test_one_bit_frames_on_byte_boundaries_are_addressable() -> None:
    """PS3.5 §8.1.1: 1-bit pixels are packed across frames; when Rows × Columns is a multiple
    of 8 every frame starts on a byte and is a plain slice."""
    ds = sample("liver_1frame.dcm")  # 512 × 512 × 1 bit
    frame = bytes(ds.PixelData)
    frames = [frame, bytes(b ^ 0xFF for b in frame), frame[::-1]]
    ds.NumberOfFrames = 3
    ds.PixelData = b"".join(frames)
    data = to_bytes(ds)
    table = parse_instance(data).record.frames
    assert table is not None and table.count == 3
    assert [frame_bytes(data, table, n) for n in (1, 2, 3)] == frames


def test_one_bit_frames_off_byte_boundaries_have_no_table() -> None:
    """3 × 3 one-bit frames share bytes: no frame is a byte range of its own."""
    ds = sample("liver_1frame.dcm")
    ds.Rows, ds.Columns, ds.NumberOfFrames = 3, 3, 3
    ds.PixelData = b"\x5a\xa5\x0f\x00"  # 27 bits, padded to an even length
    assert parse_instance(to_bytes(ds)).record.frames is None


def test_one_bit_single_frame_off_byte_boundary_is_the_whole_value() -> None:
    ds = sample("liver_1frame.dcm")
    ds.Rows, ds.Columns = 3, 3
    ds.PixelData = b"\x5a\x80"
    data = to_bytes(ds)
    table = parse_instance(data).record.frames
    assert table is not None and table.count == 1
    assert frame_bytes(data, table, 1) == b"\x5a\x80"[:2]


def jpeg_frames() -> list[bytes]:
    """Three different JPEG frames (start of image marker first), even lengths."""
    ds = sample("SC_rgb_jpeg_dcmtk.dcm")
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    frame = frame.rstrip(b"\x00")
    return [frame + b"\x00" * (len(frame) % 2 + pad) for pad in (0, 2, 4)]


def encapsulated_instance(pixel_data: bytes, frames: int, **extra: bytes) -> bytes:
    ds = sample("SC_rgb_jpeg_dcmtk.dcm")
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    ds.NumberOfFrames = frames
    ds.PixelData = pixel_data
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    ds["PixelData"].is_undefined_length = True
    return to_bytes(ds)


@pytest.mark.parametrize("has_bot", [True, False], ids=["basic-offset-table", "jpeg-markers"])
def test_encapsulated_frames_of_several_fragments(has_bot: bool) -> None:
    """PS3.5 §A.4: a frame may span several fragments; the Basic Offset Table (or, without
    one, each frame's first fragment starting with a JPEG SOI marker) says where frames
    start."""
    frames = jpeg_frames()
    data = encapsulated_instance(encapsulate(frames, fragments_per_frame=2, has_bot=has_bot), 3)
    table = parse_instance(data).record.frames
    assert table is not None
    assert [len(table.ranges(n)) for n in (1, 2, 3)] == [2, 2, 2]
    assert [frame_bytes(data, table, n) for n in (1, 2, 3)] == frames


def test_encapsulated_frames_from_the_extended_offset_table() -> None:
    """PS3.5 §A.4 / PS3.3 C.7.6.3.1.8: the Extended Offset Table gives each frame's offset
    from the first fragment's item tag (here with two fragments per frame)."""
    frames = jpeg_frames()
    offsets, position = [], 0
    for frame in frames:
        offsets.append(position)
        position += sum(8 + len(f) for f in fragment_frame(frame, nr_fragments=2))
    pixel_data = encapsulate(frames, fragments_per_frame=2, has_bot=False)
    data = encapsulated_instance(
        pixel_data,
        3,
        ExtendedOffsetTable=struct.pack("<3Q", *offsets),
        ExtendedOffsetTableLengths=struct.pack("<3Q", *(len(f) for f in frames)),
    )
    table = parse_instance(data).record.frames
    assert table is not None
    assert [frame_bytes(data, table, n) for n in (1, 2, 3)] == frames


def test_a_single_frame_of_several_fragments() -> None:
    (frame,) = jpeg_frames()[:1]
    data = encapsulated_instance(encapsulate([frame], fragments_per_frame=3), 1)
    table = parse_instance(data).record.frames
    assert table is not None and len(table.ranges(1)) == 3
    assert frame_bytes(data, table, 1) == frame


def test_fewer_frames_than_number_of_frames_gives_no_table() -> None:
    frames = jpeg_frames()[:2]
    data = encapsulated_instance(encapsulate(frames, has_bot=False), 3)
    assert parse_instance(data).record.frames is None
