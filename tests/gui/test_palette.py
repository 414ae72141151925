from __future__ import annotations

import pytest

from gui.palette import activity_color, health_color, human_bytes


def test_human_bytes__units() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1500) == "1.5 kB"
    assert human_bytes(12_345_678) == "12.3 MB"
    assert human_bytes(5 * 10**12) == "5000.0 GB"
    with pytest.raises(ValueError, match="n must be >= 0"):
        human_bytes(-1)


def test_colors__stable_per_activity_and_health() -> None:
    acts = ("walking", "sitting")
    assert activity_color("walking", acts) != activity_color("sitting", acts)
    assert activity_color("unknown", acts) == activity_color("never-added", acts)
    assert health_color("ok") != health_color("missing") != health_color("laggy")
