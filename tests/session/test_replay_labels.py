"""A replay labelled from a label file and from markers of another vocabulary (issue 11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.live_utd import record_session, write_video
from comodo_app.cli import main as cli_main
from comodo_live.config import AppConfig
from comodo_live.session.fast_replay import FastReplay
from comodo_live.session.replay_source import ReplaySources
from tests.engine_fixtures import fast_config

DURATION_S = 12.0
IMU_HZ = 50.0
FPS = 10.0
SIZE = (64, 48)
FOREIGN = [(1.0, "walk_start"), (5.5, "walk_end"), (6.0, "note: anything")]
LABEL_FILE = "start,stop,activity\n6.5,11.0,waving\n"  # seconds from the first IMU sample
MAP = ("walk_start=label:start:walking", "walk_end=label:stop")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-s recording whose markers are another program's vocabulary; IMU from t = 0.3 s."""
    out = tmp_path_factory.mktemp("replay-labels") / "session"
    out.mkdir()
    rng = np.random.default_rng(0)
    imu_t = 0.3 + np.arange(int(DURATION_S * IMU_HZ)) / IMU_HZ
    imu = rng.normal(size=(imu_t.size, 6)).astype(np.float32)
    frame_t = np.arange(int(DURATION_S * FPS)) / FPS
    frames = (rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8) for _ in frame_t)
    video = out / "video.avi"
    write_video(video, frames, FPS)
    record_session(out, imu_t, imu, frame_t, video, FOREIGN, IMU_HZ, FPS, SIZE)
    return out


def _config(tmp_path: Path, session: Path, **overrides: object) -> AppConfig:
    return fast_config(
        tmp_path,
        camera__width_px=SIZE[0],
        camera__height_px=SIZE[1],
        source__mode="replay",
        source__replay_path=str(session),
        **overrides,
    )


def test_fast_replay__label_file_and_label_map_label_windows(session: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(LABEL_FILE)
    plain = FastReplay(_config(tmp_path, session), session)
    plain.run()
    assert sum(plain.labels.counts().values()) == 0  # the foreign vocabulary labels nothing
    config = _config(
        tmp_path, session, source__replay_labels=str(labels), source__replay_label_map=MAP
    )
    replay = FastReplay(config, session)
    t0 = float(replay.recording.imu_t[0])
    label_markers = [(round(t - t0, 3), m) for t, m in replay.recording.markers if "label" in m]
    assert label_markers == [
        (0.7, "label:start:walking"),  # recorded 1.0 s on a clock whose IMU starts at 0.3 s
        (5.2, "label:stop"),
        (6.5, "label:start:waving"),  # the label file: seconds from the first IMU sample
        (11.0, "label:stop"),
    ]
    replay.run()
    counts = replay.labels.counts()
    assert counts["walking"] > 0 and counts["waving"] > 0


def test_replay_sources__label_map_on_tracks_and_label_file_as_a_marker_stream(
    session: Path, tmp_path: Path
) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(LABEL_FILE)
    config = _config(
        tmp_path, session, source__replay_labels=str(labels), source__replay_label_map=MAP
    )
    sources = ReplaySources(config)
    texts = {
        track.source_id: [s[0] for s in track.data]
        for track in sources.player.tracks
        if track.is_string
    }
    recorded = next(t for t in texts.values() if len(t) == 3)
    assert recorded == ["label:start:walking", "label:stop", "note: anything"]
    label_track = next(t for t in sources.player.tracks if t.name == "Labels")
    assert label_track.source_id in sources.marker_source_ids
    imu = next(t for t in sources.player.tracks if t.source_id == sources.imu_source_id)
    np.testing.assert_allclose(label_track.timestamps - imu.timestamps[0], [6.5, 11.0])
    np.testing.assert_allclose(
        label_track.offsets, label_track.timestamps - imu.timestamps[0] + imu.offsets[0], atol=1e-9
    )


def test_cli__labels_need_a_replay_and_a_readable_file(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, message in (
        (["--demo", "--labels", str(tmp_path / "x.csv")], "need --replay"),
        (["--replay", str(session), "--label-map", "oops"], "must be FROM=TO"),
        (["--replay", str(session), "--labels", str(tmp_path / "x.csv")], "No such file"),
    ):
        with pytest.raises(SystemExit) as exc:
            cli_main(["--headless", *argv])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
