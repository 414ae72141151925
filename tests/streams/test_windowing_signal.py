"""The windower's signal path at the door: units from the stream, anti-aliasing, frame gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pylsl
import pytest

from comodo_live.records import DEG_TO_RAD, G_TO_MS2, IMU_CHANNELS
from comodo_live.streams.frames import drop_frame_bus, frame_bus
from comodo_live.streams.reader import StreamReader
from comodo_live.streams.windowing import Timeline, Windower
from comodo_live.units import UnitError, stream_channel_map
from tests.streams.lsl_helpers import push_stamped, wait_for

pytestmark = pytest.mark.lsl

SI = [(c, "m/s^2" if c.startswith("accel") else "rad/s") for c in IMU_CHANNELS]


def _outlet(source_id: str, rate_hz: float, described: list[tuple[str, str]] | None):
    info = pylsl.StreamInfo("TestIMU", "IMU", 6, rate_hz, "float32", source_id)
    if described is not None:
        channels = info.desc().append_child("channels")
        for label, unit in described:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


def _windows(
    source_id: str,
    rate_hz: float,
    described: list[tuple[str, str]],
    stamps: np.ndarray,
    data: np.ndarray,
    **kwargs: object,
) -> list:
    """Publish ``data`` (source units and order) at ``stamps``; window it at 50 Hz."""
    outlet = _outlet(source_id, rate_hz, described)
    reader = StreamReader(source_id, buffer_s=60.0).start()
    try:
        push_stamped(outlet, stamps, data.astype(np.float32), chunk=256)
        assert wait_for(lambda: reader.health().samples == len(stamps), 10.0)
        assert reader.info is not None
        options = {"max_windows_per_poll": 1000, "align_to_newest": False, **kwargs}
        windower = Windower(
            reader, 2.0, 0.5, 50.0, channel_map=stream_channel_map(reader.info), **options
        )
        return windower.poll()
    finally:
        reader.stop()
        del outlet


def _motion(t: np.ndarray) -> np.ndarray:
    """(M, 6) slow body motion in m/s² and rad/s."""
    phase = 2 * np.pi * t
    accel = np.stack([np.sin(1.3 * phase), 9.81 + np.cos(0.7 * phase), 0.5 * np.sin(2.1 * phase)])
    gyro = np.stack([np.cos(0.9 * phase), 0.3 * np.sin(1.7 * phase), np.sin(0.4 * phase)])
    return np.concatenate([accel, gyro]).T


def test_windower__deg_s_and_g_streams_give_the_same_windows_as_si(source_id: str) -> None:
    stamps = pylsl.local_clock() - 12.0 + np.arange(1000) / 100.0
    si = _motion(stamps - stamps[0])
    other = np.concatenate([si[:, 3:] / DEG_TO_RAD, si[:, :3] / G_TO_MS2], axis=1)
    described = [(f"Gyro{a}", "deg/s") for a in "XYZ"] + [(f"Acc{a}", "g") for a in "XYZ"]
    reference = _windows(f"{source_id}-si", 100.0, SI, stamps, si)
    converted = _windows(f"{source_id}-dg", 100.0, described, stamps, other)
    assert len(reference) == len(converted) >= 14
    for a, b in zip(reference, converted, strict=True):
        np.testing.assert_allclose(b.imu.data, a.imu.data, rtol=1e-5, atol=1e-5)
    assert 9.0 < float(converted[0].imu.data[1].mean()) < 10.5  # m/s², not g


def test_stream_channel_map__unknown_or_missing_units_refused(source_id: str) -> None:
    for suffix, described, message in (
        ("none", None, "has no channel metadata"),
        ("rpm", [*SI[:3], ("gyro_x", "rpm"), *SI[4:]], "unit 'rpm' of channel 'gyro_x'"),
        ("empty", [*SI[:5], ("gyro_z", "")], r"channel 'gyro_z' \(gyro_z\) declares no unit"),
    ):
        outlet = _outlet(f"{source_id}-{suffix}", 100.0, described)
        reader = StreamReader(f"{source_id}-{suffix}").start()
        try:
            assert reader.info is not None
            with pytest.raises(UnitError, match=rf"source_id='{source_id}-{suffix}'.*{message}"):
                stream_channel_map(reader.info)
        finally:
            reader.stop()
            del outlet


def test_windower__vibration_does_not_fold_into_50_hz_windows(source_id: str) -> None:
    rate = 400.0
    stamps = pylsl.local_clock() - 15.0 + np.arange(int(12 * rate)) / rate
    t = stamps - stamps[0]
    slow = _motion(t)
    vibration = 2.0 * np.sin(2 * np.pi * 151.3 * t)[:, None] * np.ones(6)  # a motor at 151.3 Hz
    clean = _windows(f"{source_id}-c", rate, SI, stamps, slow)
    shaken = _windows(f"{source_id}-v", rate, SI, stamps, slow + vibration)
    assert len(clean) == len(shaken) >= 16
    ratio = np.mean(
        [b.imu.data.std(1) / a.imu.data.std(1) for a, b in zip(clean, shaken, strict=True)], 0
    )
    assert np.all(np.abs(ratio - 1.0) < 0.05), ratio
    # the control: plain linear interpolation folds the vibration in (std several times higher)
    grid = 1.0 + np.arange(500) / 50.0  # (G,) s
    folded = (
        np.interp(grid, t, (slow + vibration)[:, 0]).std() / np.interp(grid, t, slow[:, 0]).std()
    )
    assert folded > 1.5


def test_windower__real_gopro_imu_matches_lowpass_then_resample(
    shared_data: Path, source_id: str
) -> None:
    from scipy.signal import resample_poly

    from comodo_live.imu_csv import read_imu_csv

    table = read_imu_csv(shared_data / "video_imu" / "gopro_walk_imu.csv")  # ~198 Hz
    stamps = pylsl.local_clock() - 20.0 + np.arange(len(table.times)) / 198.0
    windows = _windows(source_id, 198.0, SI, stamps, table.samples)
    reference = resample_poly(table.samples, 25, 99, axis=0).T  # (6, G) at 50 Hz from sample 0
    scale = table.samples.std(0)[:, None]  # (6, 1)
    oldest = windows[0].imu.t_start
    errors, linear_errors = [], []
    for window in windows:
        start = round((window.imu.t_start - oldest) * 50.0)
        if window.imu.t_start - oldest < 0.2 or start + 100 > reference.shape[1] - 10:
            continue  # the filter needs 0.2 s of data on each side for scipy's exact value
        expected = reference[:, start : start + 100]
        errors.append(np.abs(window.imu.data - expected) / scale)
        grid = (np.arange(100) + start) / 50.0
        linear = np.stack(
            [np.interp(grid, np.arange(len(stamps)) / 198.0, c) for c in table.samples.T]
        )
        linear_errors.append(np.sqrt(((linear - expected) ** 2).mean(1)) / scale[:, 0])
    assert len(errors) >= 12
    assert float(np.max(errors)) < 0.01  # within 1 % of each channel's std everywhere
    assert float(np.max(np.mean(linear_errors, 0))) > 0.02  # linear alone is 2-6 % off (RMS)


def test_windower__five_fps_video_pairs(source_id: str) -> None:
    stamps = pylsl.local_clock() - 12.0 + np.arange(1000) / 100.0
    bus = frame_bus(f"{source_id}-cam", capacity=200)
    for index, stamp in enumerate(np.arange(stamps[0] - 0.1, stamps[-1] + 0.2, 0.2)):  # 5 fps
        bus.publish(index, float(stamp), np.full((8, 8, 3), index % 256, dtype=np.uint8))
    try:
        kwargs = {"frame_source": bus, "camera_state": Timeline(initial=True), "frames_per_clip": 4}
        auto = _windows(f"{source_id}-a", 100.0, SI, stamps, _motion(stamps), **kwargs)
        strict = _windows(
            f"{source_id}-s", 100.0, SI, stamps, _motion(stamps), max_frame_gap_s=0.15, **kwargs
        )
    finally:
        drop_frame_bus(f"{source_id}-cam")
    assert len(auto) >= 14 and all(w.clip is not None for w in auto)
    assert all(w.clip.frames.shape == (4, 8, 8, 3) for w in auto)
    assert all(w.clip is None for w in strict)  # 0.2 s frame gaps exceed a 0.15 s limit


def test_windower__app_and_exported_runtime_see_the_same_windows(source_id: str) -> None:
    from comodo_live.runtime.signal import offline_windows

    rate = 200.0
    stamps = pylsl.local_clock() - 15.0 + np.arange(int(10 * rate)) / rate
    t = stamps - stamps[0]
    si = _motion(t) + 0.3 * np.sin(2 * np.pi * 80.0 * t)[:, None]  # above the 25 Hz cutoff
    deg_s_and_g = np.concatenate([si[:, 3:] / DEG_TO_RAD, si[:, :3] / G_TO_MS2], axis=1)
    described = [(f"Gyro{a}", "deg/s") for a in "XYZ"] + [(f"Acc{a}", "g") for a in "XYZ"]
    app = _windows(source_id, rate, described, stamps, deg_s_and_g)
    runtime = {round(end, 6): w for end, w in offline_windows(t, si, 50.0, 100, 0.5)}
    oldest = app[0].imu.t_start
    matched = 0
    for window in app:
        expected = runtime.get(round(window.imu.t_end - oldest, 6))
        if expected is not None:
            np.testing.assert_allclose(window.imu.data, expected, atol=2e-4)
            matched += 1
    assert matched >= 14
