"""An XDF file that a full disk cut inside a chunk (a stream header: pyxdf refuses the file;
a footer: pyxdf skips it); cut after its last whole chunk, it loads every sample written before."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import pyxdf

from comodo_live.recording.xdf_cut import cut_after_last_chunk, whole_chunks_end

STREAM_XML = (
    "<?xml version='1.0'?><info><name>IMU</name><type>IMU</type><channel_count>1</channel_count>"
    "<nominal_srate>10</nominal_srate><channel_format>float32</channel_format>"
    "<source_id>cut-test</source_id></info>"
)
LATE_XML = STREAM_XML.replace("cut-test", "late-stream")  # a stream that joined later
FOOTER_XML = (
    "<?xml version='1.0'?><info><first_timestamp>0</first_timestamp>"
    "<last_timestamp>0.9</last_timestamp><sample_count>10</sample_count></info>"
)


def _chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return bytes([4]) + struct.pack("<I", len(body)) + body


def _samples(stream_id: int, n: int) -> bytes:
    values = b"".join(b"\x08" + struct.pack("<df", 0.1 * i, float(i)) for i in range(n))
    return _chunk(3, struct.pack("<I", stream_id) + b"\x01" + bytes([n]) + values)


def _xdf(path: Path, cut_tag: int) -> tuple[bytes, int]:
    """A one-stream XDF file ending in a cut late stream header (``cut_tag`` 2) or footer (6);
    returns its bytes and the size of its whole chunks."""
    whole = b"XDF:" + _chunk(1, b"<?xml version='1.0'?><info><version>1.0</version></info>")
    whole += _chunk(2, struct.pack("<I", 1) + STREAM_XML.encode())
    whole += _samples(1, 10)
    if cut_tag == 2:
        last = _chunk(2, struct.pack("<I", 2) + LATE_XML.encode())
    else:
        last = _chunk(6, struct.pack("<I", 1) + FOOTER_XML.encode())
    data = whole + last[: len(last) // 2]  # the disk filled while this chunk was written
    path.write_bytes(data)
    return data, len(whole)


@pytest.mark.parametrize("cut_tag", [2, 6])
def test_cut_after_last_chunk__a_file_cut_mid_chunk_loads_after_the_cut(
    tmp_path: Path, cut_tag: int
) -> None:
    path = tmp_path / "session.xdf"
    data, whole = _xdf(path, cut_tag)
    if cut_tag == 2:
        with pytest.raises(ET.ParseError):
            pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    assert whole_chunks_end(path) == whole
    assert cut_after_last_chunk(path) == len(data) - whole
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    assert len(streams) == 1 and streams[0]["info"]["source_id"] == ["cut-test"]
    assert [float(v) for v in streams[0]["time_series"][:, 0]] == [float(i) for i in range(10)]
    assert cut_after_last_chunk(path) == 0  # whole now: nothing more to cut


def test_cut_after_last_chunk__leaves_other_files_alone(tmp_path: Path) -> None:
    path = tmp_path / "not.xdf"
    path.write_bytes(b"hello, this is no XDF file")
    assert whole_chunks_end(path) == 0 and cut_after_last_chunk(path) == 0
    assert path.read_bytes() == b"hello, this is no XDF file"
