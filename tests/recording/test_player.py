from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pylsl
import pytest
import pyxdf

from comodo_live.recording.player import XdfPlayer, check_one_clock
from comodo_live.recording.recorder import SessionRecorder, footer_count
from comodo_live.streams.reader import StreamReader
from drivers import replay
from tests.recording.publishers import PublishedSession, make_outlets, push_session
from tests.streams.lsl_helpers import wait_for


def _by_name(path: Path) -> dict[str, dict]:
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    return {s["info"]["name"][0]: s for s in streams}


def _check_recorded_as_pushed(streams: dict[str, dict], session: PublishedSession) -> None:
    imu = streams["TestIMU"]
    t_imu, values = session.pushed["imu"]
    np.testing.assert_array_equal(imu["time_series"], values)
    np.testing.assert_allclose(imu["time_stamps"], t_imu, atol=1e-3)  # clock offsets applied
    np.testing.assert_allclose(np.diff(imu["time_stamps"]), np.diff(t_imu), atol=1e-9)
    markers = [s[0] for s in streams["TestMarkers"]["time_series"]]
    assert markers == [t[0] for t in session.pushed["markers"][1]]
    assert len(streams["TestCamera"]["time_stamps"]) == len(session.pushed["frames"][0])
    channels = imu["info"]["desc"][0]["channels"][0]["channel"]
    assert [c["label"][0] for c in channels][:2] == ["accel_x", "accel_y"]
    assert [c["unit"][0] for c in channels][3] == "rad/s"
    assert imu["info"]["source_id"][0] == session.source_ids["imu"]
    assert len(imu["clock_times"]) >= 1  # clock offsets recorded


@pytest.mark.slow
def test_player__record_replay_record_round_trip(tmp_path: Path, source_id: str) -> None:
    session = make_outlets(source_id)
    first = tmp_path / "first" / "session.xdf"
    recorder = SessionRecorder(first, list(session.source_ids.values())).start()
    assert recorder.running
    push_session(session, pylsl.local_clock(), 1.5)
    assert recorder.stop() == first
    assert recorder.finalised and not recorder.running
    assert footer_count(first) == 4
    original = _by_name(first)
    _check_recorded_as_pushed(original, session)

    player = XdfPlayer(first, source_id_suffix=f"-rp-{source_id}").open()
    assert set(player.source_ids) == set(session.source_ids.values())
    assert all(v == k + f"-rp-{source_id}" for k, v in player.source_ids.items())
    second = tmp_path / "second" / "session.xdf"
    recorder = SessionRecorder(second, list(player.source_ids.values())).start()
    with player:
        assert player.wait(10.0)
        recorder.stop()  # outlets still alive during the recorder's flush
    replayed = _by_name(second)

    assert set(replayed) == set(original) == {"TestIMU", "TestMarkers", "TestCamera", "TestVideo"}
    pixels = replayed["TestVideo"]["time_series"].view(np.uint8)
    np.testing.assert_array_equal(pixels, session.pushed["video"][1])  # video over LSL: exact
    for name, stream in original.items():
        again = replayed[name]
        assert len(again["time_stamps"]) == len(stream["time_stamps"]) > 0, name
        intervals = np.abs(np.diff(again["time_stamps"]) - np.diff(stream["time_stamps"]))
        assert np.median(intervals) < 1e-3, name
        assert intervals.max() < 1e-4, name  # timestamps are pushed explicitly: exact
        if name == "TestMarkers":
            assert again["time_series"] == stream["time_series"]
        else:
            np.testing.assert_array_equal(again["time_series"], stream["time_series"])
        assert again["info"]["desc"] == stream["info"]["desc"], name  # metadata round trip
        assert again["info"]["type"] == stream["info"]["type"]
        assert again["info"]["nominal_srate"] == stream["info"]["nominal_srate"]
    # jitter and the gap are kept, not regenerated on a nominal grid
    imu_intervals = np.diff(replayed["TestIMU"]["time_stamps"])
    assert imu_intervals.std() > 5e-4 and imu_intervals.max() > 0.25


def _replay_into_readers(
    path: Path, speed: float, suffix: str
) -> tuple[XdfPlayer, dict[str, StreamReader]]:
    player = XdfPlayer(path, speed=speed, source_id_suffix=suffix).open()
    readers = {t.name: StreamReader(t.source_id, dejitter=False).start() for t in player.tracks}
    player.start()
    return player, readers


def test_player__replays_the_minimal_shared_file(shared_data: Path, source_id: str) -> None:
    path = shared_data / "xdf" / "minimal.xdf"
    original = _by_name(path)
    player, readers = _replay_into_readers(path, speed=2.0, suffix=f"-{source_id}")
    try:
        assert player.wait(5.0)
        for name, stream in original.items():
            reader = readers[name]
            expected = len(stream["time_stamps"])
            assert wait_for(lambda r=reader, n=expected: r.health().samples == n)
            if reader.is_string:
                stamps = np.array([t for t, _ in reader.markers()])
                assert [m for _, m in reader.markers()] == [s[0] for s in stream["time_series"]]
            else:
                stamps, values, _ = reader.newest(100)
                np.testing.assert_array_equal(values, stream["time_series"])
            # original relative timing, divided by the speed
            np.testing.assert_allclose(
                np.diff(stamps), np.diff(stream["time_stamps"]) / 2.0, atol=1e-6
            )
    finally:
        for reader in readers.values():
            reader.stop()
        player.stop()


def test_player__replays_empty_streams(shared_data: Path, source_id: str) -> None:
    path = shared_data / "xdf" / "empty_streams.xdf"
    player, readers = _replay_into_readers(path, speed=8.0, suffix=f"-{source_id}")
    try:
        assert len(player.tracks) == 4 and len(readers) == 4  # empty streams have outlets too
        assert player.wait(5.0)
        counts = {name: reader.health().samples for name, reader in readers.items()}
        assert wait_for(
            lambda: readers["Data stream: test stream 0 counter"].health().samples == 10
        )
    finally:
        for reader in readers.values():
            reader.stop()
        player.stop()
    assert counts["Empty data stream: test stream 0 counter"] == 0
    assert counts["Empty marker stream: test stream 0 counter"] == 0
    assert counts["ctrl"] == 1


def test_player__loops_with_shifted_timestamps(shared_data: Path, source_id: str) -> None:
    path = shared_data / "xdf" / "minimal.xdf"
    player = XdfPlayer(path, speed=4.0, loop=True, source_id_suffix=f"-{source_id}").open()
    track = player.tracks[0]
    reader = StreamReader(track.source_id, dejitter=False).start()
    try:
        player.start()
        assert wait_for(lambda: reader.health().samples >= 2 * len(track), timeout_s=5.0)
        assert not player.finished.is_set() and player.passes >= 1
    finally:
        reader.stop()
        player.stop()
    stamps = reader.newest(100)[0]
    n = len(track)
    np.testing.assert_allclose(stamps[n : 2 * n] - stamps[:n], player.duration_s, atol=1e-6)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_player__a_failure_stops_playback_keeps_the_error_and_closes_outlets(
    shared_data: Path, source_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    player = XdfPlayer(shared_data / "xdf" / "minimal.xdf", source_id_suffix=f"-{source_id}")

    def broken(*args: object) -> float:
        raise OSError("outlet gone")

    monkeypatch.setattr(player, "_push_due", broken)
    player.start()
    assert player.wait(5.0)  # finished is set also when playback fails
    assert wait_for(lambda: not player.running)
    assert isinstance(player.error, OSError)
    with pytest.raises(OSError, match="outlet gone"):  # COMODO_RAISE=1 under tests
        player.stop()
    assert all(track.outlet is None for track in player.tracks)
    player.stop()  # idempotent, re-raised once only


def test_player__rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="speed"):
        XdfPlayer(tmp_path, speed=0)
    with pytest.raises(FileNotFoundError, match=r"no \.xdf file"):
        XdfPlayer(tmp_path)
    with pytest.raises(FileNotFoundError, match="no session"):
        XdfPlayer(tmp_path / "absent.xdf")


def test_replay_cli__plays_a_file(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay.main([str(shared_data / "xdf" / "minimal.xdf"), "--speed", "4"]) == 0
    out = capsys.readouterr().out
    assert "'SendDataC' type='EEG' samples=9" in out and "pushed 18 samples" in out


def test_check_one_clock__refuses_streams_on_different_clocks(tmp_path: Path) -> None:
    check_one_clock([(10.0, 600.0), (12.0, 590.0), (300.0, 900.0)], tmp_path / "ok.xdf")
    check_one_clock([], tmp_path / "empty.xdf")
    with pytest.raises(ValueError, match=r"different clocks \(one starts 843,180 s after"):
        check_one_clock([(100.0, 700.0), (843_880.0, 844_480.0)], tmp_path / "two.xdf")


def test_replay_cli__warns_about_a_file_without_streams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The smallest XDF another tool can write: the magic and a FileHeader chunk, no stream.
    header = b'<?xml version="1.0"?><info><version>1.0</version></info>'
    body = struct.pack("<H", 1) + header  # chunk tag 1: FileHeader
    path = tmp_path / "no_streams.xdf"
    path.write_bytes(b"XDF:" + bytes([4]) + struct.pack("<I", len(body)) + body)
    assert replay.main([str(path), "--speed", "4"]) == 0
    captured = capsys.readouterr()
    assert "holds no samples (0 stream header(s)): nothing to replay" in captured.err


def test_replay_cli__takes_a_suffix_that_starts_with_a_dash(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay.main([str(shared_data / "xdf" / "minimal.xdf"), "--suffix", "-x"]) == 0
    out = capsys.readouterr().out
    assert "source_id='" in out and all(
        line.endswith("-x'") for line in out.splitlines() if "source_id=" in line
    )
