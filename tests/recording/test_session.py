from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from comodo_live.recording.session import find_session, find_video, videos_per_frame

XML = "<info><desc><video_file>{}</video_file></desc></info>"


def test_find_session__file_folder_and_ambiguity(tmp_path: Path) -> None:
    (tmp_path / "a.xdf").write_bytes(b"XDF:")
    assert find_session(tmp_path) == (tmp_path / "a.xdf", tmp_path)
    assert find_session(tmp_path / "a.xdf") == (tmp_path / "a.xdf", tmp_path)
    (tmp_path / "b.xdf").write_bytes(b"XDF:")
    with pytest.raises(ValueError, match=r"several \.xdf files"):
        find_session(tmp_path)
    (tmp_path / "session.xdf").write_bytes(b"XDF:")
    assert find_session(tmp_path)[0] == tmp_path / "session.xdf"
    with pytest.raises(FileNotFoundError, match="no session"):
        find_session(tmp_path / "absent")


def test_find_video__named_else_only_one(tmp_path: Path) -> None:
    (tmp_path / "cam.avi").write_bytes(b"")
    assert find_video(tmp_path, XML.format("cam.avi")) == tmp_path / "cam.avi"
    assert find_video(tmp_path, XML.format("")) == tmp_path / "cam.avi"  # the only one
    (tmp_path / "other.mp4").write_bytes(b"")
    assert find_video(tmp_path, XML.format("")) is None  # ambiguous
    assert find_video(tmp_path, XML.format("other.mp4")) == tmp_path / "other.mp4"


def test_videos_per_frame__follows_video_start_markers(tmp_path: Path) -> None:
    for name in ("first.avi", "second.avi"):
        (tmp_path / name).write_bytes(b"")
    times = np.array([1.0, 2.0, 6.0, 7.0, 12.0])
    markers = [(0.5, "label:stop"), (5.0, "video:start:second.avi"), (11.0, "video:start:gone.avi")]
    videos = videos_per_frame(tmp_path, XML.format("first.avi"), times, markers)
    first, second = tmp_path / "first.avi", tmp_path / "second.avi"
    assert videos == [first, first, second, second, None]
