from __future__ import annotations

from pathlib import Path

import pytest

from comodo_live.recording.xdfmeta import desc_text, read_stream_headers, stream_info_from_xml

HEADER = """<?xml version="1.0"?>
<info><name>Cam</name><type>VideoFrameIndex</type><channel_count>1</channel_count>
<channel_format>double64</channel_format><source_id>orig</source_id><nominal_srate>30</nominal_srate>
<desc><video_file>camera.avi</video_file><channels><channel><label>frame_index</label>
<unit>frame</unit></channel></channels><acquisition><model>x</model></acquisition>
<video_file2>second</video_file2></desc></info>"""


def test_stream_info_from_xml__copies_fields_and_desc() -> None:
    info = stream_info_from_xml(HEADER, "new-id")
    assert (info.name(), info.type(), info.source_id()) == ("Cam", "VideoFrameIndex", "new-id")
    assert (info.channel_count(), info.nominal_srate()) == (1, 30.0)
    desc = info.desc()
    assert desc.child_value("video_file") == "camera.avi"
    assert desc.child("channels").child("channel").child_value("unit") == "frame"
    names = []
    child = desc.first_child()
    while not child.empty():
        names.append(child.name())
        child = child.next_sibling()
    assert names == ["video_file", "channels", "acquisition", "video_file2"]  # order kept
    assert desc_text(HEADER, "absent", "video_file") == "camera.avi"


def test_stream_info_from_xml__rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="channel_format 'float128'"):
        stream_info_from_xml(HEADER.replace("double64", "float128"), "x")


def test_read_stream_headers__shared_file(shared_data: Path) -> None:
    headers = read_stream_headers(shared_data / "xdf" / "minimal.xdf")
    assert len(headers) == 2
    assert any("<name>SendDataC</name>" in xml for xml in headers.values())


def test_read_stream_headers__truncated_and_foreign_files(
    tmp_path: Path, shared_data: Path
) -> None:
    data = (shared_data / "xdf" / "minimal.xdf").read_bytes()
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(data[: len(data) // 2])
    assert len(read_stream_headers(cut)) >= 1
    other = tmp_path / "other.xdf"
    other.write_bytes(b"NOPE")
    with pytest.raises(ValueError, match="not an XDF file"):
        read_stream_headers(other)
