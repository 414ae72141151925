"""The one IMU unit table: spellings, refusals naming the column/stream, LSL channel maps."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.records import DEG_TO_RAD, G_TO_MS2, IMU_CHANNELS
from comodo_live.units import (
    ChannelError,
    UnitError,
    canonical_channel,
    channel_map,
    check_channel_count,
    split_label,
    unit_factor,
    xdf_channel_map,
)


@pytest.mark.parametrize(
    ("channel", "unit", "factor"),
    [
        ("accel_x", "m/s^2", 1.0),
        ("accel_x", "m/s²", 1.0),
        ("accel_y", "m_s2", 1.0),
        ("accel_y", "m s^-2", 1.0),
        ("accel_z", "G", G_TO_MS2),
        ("accel_z", "mg", 1e-3 * G_TO_MS2),
        ("gyro_x", "rad/s", 1.0),
        ("gyro_x", "rad_s", 1.0),
        ("gyro_y", "deg/s", DEG_TO_RAD),
        ("gyro_y", "°/s", DEG_TO_RAD),
        ("gyro_z", "dps", DEG_TO_RAD),
        ("gyro_z", "degrees/second", DEG_TO_RAD),
        ("gyro_z", " [deg_s] ", DEG_TO_RAD),
    ],
)
def test_unit_factor__accepted_spellings(channel: str, unit: str, factor: float) -> None:
    assert unit_factor(channel, unit) == pytest.approx(factor, rel=1e-12)


def test_unit_factor__unknown_missing_and_wrong_kind_refused_with_accepted_list() -> None:
    with pytest.raises(UnitError, match=r"unit 'furlong' of column 'ax' .*unknown.*m/s\^2.*mg"):
        unit_factor("accel_x", "furlong", "column 'ax'")
    with pytest.raises(UnitError, match=r"column 'gx' \(gyro_x\) has no unit.*deg/s"):
        unit_factor("gyro_x", "", "column 'gx'")
    with pytest.raises(UnitError, match="unit 'g' of channel 'gyro_z' is not a rotation-rate"):
        unit_factor("gyro_z", "g")
    with pytest.raises(UnitError, match=r"'deg/s' .* is not an acceleration unit"):
        unit_factor("accel_x", "deg/s")
    assert issubclass(UnitError, ChannelError) and issubclass(ChannelError, ValueError)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("accel_x", "accel_x"),
        ("AccY", "accel_y"),
        ("gyro_z_deg_s", "gyro_z"),
        ("gx", "gyro_x"),
        ("accel_x_m_s2", "accel_x"),
        ("time_s", None),
        ("temperature", None),
    ],
)
def test_canonical_channel__recognises_common_labels(label: str, expected: str | None) -> None:
    assert canonical_channel(label) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("accel_x_m_s2", ("accel_x", "m_s2")),
        ("ax_g", ("accel_x", "g")),
        ("gyro_z [deg/s]", ("gyro_z", "deg/s")),
        ("GyroY (dps)", ("gyro_y", "dps")),
        ("AccX", ("accel_x", "")),
        ("index", (None, "")),
        ("time_ms", (None, "")),
    ],
)
def test_split_label__channel_and_unit(label: str, expected: tuple[str | None, str]) -> None:
    assert split_label(label) == expected


def test_check_channel_count__names_expected_and_found() -> None:
    with pytest.raises(
        ChannelError, match=r"stream X has 3 IMU channels, expected 6 \(accel_x, .*gyro_z\)"
    ):
        check_channel_count(3, IMU_CHANNELS, "stream X")


def test_channel_map__reorders_by_label_and_converts() -> None:
    described = [(f"Gyro{a}", "deg/s") for a in "XYZ"] + [(f"Acc{a}", "g") for a in "XYZ"]
    mapping = channel_map(described, "stream S")
    raw = np.arange(12.0).reshape(2, 6)  # gyro xyz (deg/s), accel xyz (g)
    out = mapping.apply(raw)
    np.testing.assert_allclose(out[:, :3], raw[:, 3:] * G_TO_MS2)
    np.testing.assert_allclose(out[:, 3:], raw[:, :3] * DEG_TO_RAD)
    assert mapping.units == ("g",) * 3 + ("deg/s",) * 3 and not mapping.is_identity
    si = channel_map([(c, "m/s^2" if c[0] == "a" else "rad/s") for c in IMU_CHANNELS], "S")
    assert si.is_identity and si.apply(raw) is not None


def test_channel_map__missing_or_unknown_unit_names_stream_and_channel() -> None:
    with pytest.raises(UnitError, match=r"stream S: channel 'gyro_y' \(gyro_y\) declares no unit"):
        channel_map(
            [(c, "" if c == "gyro_y" else "g" if c[0] == "a" else "dps") for c in IMU_CHANNELS],
            "stream S",
        )
    with pytest.raises(UnitError, match=r"stream S: unit 'rpm' of channel 'gyro_x'"):
        channel_map([(c, "rpm" if c[0] == "g" else "g") for c in IMU_CHANNELS], "stream S")
    with pytest.raises(ChannelError, match="stream S has 3 IMU channels"):
        channel_map([("accel_x", "g")] * 3, "stream S")


def _pyxdf_stream(described: list[tuple[str, str]] | None) -> dict:
    """An IMU stream header as pyxdf parses it (every value wrapped in a list)."""
    info: dict = {"name": ["IMU"], "source_id": ["rec-1"], "channel_count": ["6"]}
    if described is not None:
        channel = [{"label": [label], "unit": [unit]} for label, unit in described]
        info["desc"] = [{"channels": [{"channel": channel}]}]
    else:
        info["desc"] = [None]
    return {"info": info}


def test_xdf_channel_map__reads_a_recorded_streams_units() -> None:
    described = [(f"Acc{a}", "mg") for a in "XYZ"] + [(f"Gyro{a}", "dps") for a in "XYZ"]
    mapping = xdf_channel_map(_pyxdf_stream(described))
    assert mapping.order == tuple(range(6))
    np.testing.assert_allclose(mapping.factors, [1e-3 * G_TO_MS2] * 3 + [DEG_TO_RAD] * 3)
    with pytest.raises(UnitError, match=r"XDF stream 'IMU' \(source_id='rec-1'\) has no channel"):
        xdf_channel_map(_pyxdf_stream(None))
