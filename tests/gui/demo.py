"""The real engine controller on the synthetic demo, for GUI tests (no fake controller)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Faster warm-up than the defaults so a test sees training within seconds; everything else is
# the real default pipeline (demo drivers, EfficientNet-Lite0 teacher, CNN student, recorder).
FAST_START: dict[str, Any] = {
    "source.mode": "demo",
    "trainer.min_pairs": 4,
    "trainer.imu_stats_windows": 4,
    "trainer.replay_ratio": 4.0,
    # The previous, smaller live student: export and parity stay quick on a loaded 2-core box.
    "student.width": 32,
    "student.embed_dim": 128,
    "student.proj_hidden": 512,
    "teacher.stats_warmup_clips": 2,
    "trainer.publish_every_s": 1.0,
}


def demo_controller(root: Path, record: bool = False, **overrides: Any):
    """A (not yet started) :class:`comodo_live.session.controller.Controller` on the demo."""
    from comodo_live.config import load_config
    from comodo_live.session.controller import Controller
    from drivers.sources import make_sources

    values = {**FAST_START, "session.root": str(root), "session.record": record, **overrides}
    return Controller(load_config(overrides=values), sources_factory=make_sources)
