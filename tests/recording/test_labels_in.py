"""Labels that come with a recording: label CSV → markers (converter, replay), marker maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyxdf

from comodo_live.recording.convert import main
from comodo_live.recording.labels_in import (
    LabelInterval,
    interval_markers,
    map_markers,
    parse_label_map,
    read_label_csv,
)
from tests.recording.test_convert import _make_sources


def _labels(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_label_csv__rows_become_start_stop_markers(tmp_path: Path) -> None:
    path = _labels(tmp_path / "l.csv", "Start,Stop,Activity\n1.5,4,walking\n4,6.25, sitting \n")
    intervals = read_label_csv(path)
    assert intervals == [LabelInterval(1.5, 4.0, "walking"), LabelInterval(4.0, 6.25, "sitting")]
    assert interval_markers(intervals, origin_s=100.0) == [
        (101.5, "label:start:walking"),
        (104.0, "label:stop"),  # the stop before the next start at the same time
        (104.0, "label:start:sitting"),
        (106.25, "label:stop"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("from,to,what\n1,2,a\n", "no 'start' column"),
        ("start,stop,activity\n1,x,a\n", r"line 2: 'x' is not a number"),
        ("start,stop,activity\n3,2,a\n", r"line 2: stop \(2.0 s\) must be after start"),
        ("start,stop,activity\n1700000000,1700000005,a\n", "wall-clock"),
        ("start,stop,activity\n1,2,bad\x1b[31mname\n", r"line 2: .*printable.*\\x1b"),
        ("start,stop,activity\n1,2," + "a" * 65 + "\n", "<= 64 characters"),
        ("start,stop,activity\n1,2,unknown\n", "reserved"),
    ],
)
def test_read_label_csv__refuses_bad_rows(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_label_csv(_labels(tmp_path / "l.csv", text))


def test_label_map__pairs_and_files(tmp_path: Path) -> None:
    file = _labels(tmp_path / "map.txt", "# other lab's vocabulary\nsit_begin = label:start:sit\n")
    mapping = parse_label_map(["walk_start=label:start:walk", "walk_end=label:stop", str(file)])
    assert mapping == {
        "walk_start": "label:start:walk",
        "walk_end": "label:stop",
        "sit_begin": "label:start:sit",
    }
    assert map_markers([(1.0, "walk_start"), (2.0, "other"), (3.0, "walk_end")], mapping) == [
        (1.0, "label:start:walk"),
        (2.0, "other"),
        (3.0, "label:stop"),
    ]
    for bad, message in (
        ("walk_start", "must be FROM=TO"),
        ("a=activity:walk", "must be 'label:start:<activity>' or 'label:stop'"),
        ("a=label:start:bad\x07", "printable"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_label_map([bad])


def test_convert__label_file_written_as_markers_on_the_imu_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video, csv = _make_sources(tmp_path)  # 2 s of video and IMU, time_s from the first frame
    labels = _labels(tmp_path / "labels.csv", "start,stop,activity\n0.25,1.0,walk\n1.0,1.75,sit\n")
    out = tmp_path / "session"
    argv = ["--video", str(video), "--imu-csv", str(csv), "--labels", str(labels)]
    assert main([*argv, "--out", str(out)]) == 0
    assert "4 label markers" in capsys.readouterr().out
    streams = {
        s["info"]["type"][0]: s
        for s in pyxdf.load_xdf(str(out / "session.xdf"), dejitter_timestamps=False)[0]
    }
    imu, markers = streams["IMU"], streams["Markers"]
    assert [m[0] for m in markers["time_series"]] == [
        "label:start:walk",
        "label:stop",
        "label:start:sit",
        "label:stop",
    ]
    relative = np.asarray(markers["time_stamps"]) - imu["time_stamps"][0]  # IMU time_s = 0
    np.testing.assert_allclose(relative, [0.25, 1.0, 1.0, 1.75], atol=1e-4)
    bad = _labels(tmp_path / "bad.csv", "start,stop,activity\n1,0.5,walk\n")
    assert main([*argv[:4], "--labels", str(bad), "--out", str(tmp_path / "other")]) == 2
    assert "must be after start" in capsys.readouterr().err
