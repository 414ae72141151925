"""Plain pylsl outlets and helpers for the streams tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pylsl

from comodo_live.records import IMU_CHANNELS, IMU_UNITS


def imu_outlet(source_id: str, rate_hz: float = 100.0) -> pylsl.StreamOutlet:
    """A 6-channel float32 IMU outlet with XDF channel metadata."""
    info = pylsl.StreamInfo("TestIMU", "IMU", 6, rate_hz, "float32", source_id)
    channels = info.desc().append_child("channels")
    for label, unit in zip(IMU_CHANNELS, IMU_UNITS, strict=True):
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


def marker_outlet(source_id: str) -> pylsl.StreamOutlet:
    return pylsl.StreamOutlet(
        pylsl.StreamInfo("TestMarkers", "Markers", 1, 0.0, "string", source_id)
    )


def push_stamped(
    outlet: pylsl.StreamOutlet, stamps: np.ndarray, data: object, chunk: int = 64
) -> None:
    """Push samples with explicit timestamps, ``chunk`` samples at a time."""
    for start in range(0, len(stamps), chunk):
        outlet.push_chunk(
            data[start : start + chunk], np.asarray(stamps[start : start + chunk]).tolist()
        )  # type: ignore[index]


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
