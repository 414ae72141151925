"""CPU cost of the synthetic demo session (drivers.synthetic) and of rendering one frame.

Measures, for each (IMU rate, fps) setting: process CPU time / wall time while a
:class:`~drivers.synthetic.SyntheticSession` publishes IMU, frame indices (160² frames on the local
frame bus, 320x240 rendered) and ground-truth markers with no reader attached; plus the median
time to render + downscale one frame per activity. The machine may be shared: the load average is
recorded with the figures, and OpenCV's thread count is reported (CPU time counts all threads).

Prints the machine and saves ``benchmarks/results/synthetic_cost.json``.

Usage: ``python benchmarks/synthetic_cost.py [--seconds 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from pathlib import Path

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import cv2
import numpy as np

from drivers.synthetic import SyntheticSession
from drivers.synthetic_motion import DEFAULT_SCRIPT, SyntheticMotion
from drivers.synthetic_scene import SceneRenderer

RESULTS = Path(__file__).resolve().parent / "results" / "synthetic_cost.json"


def session_cpu(imu_rate_hz: float, fps: float, seconds: float) -> dict[str, float]:
    session = SyntheticSession(
        imu_rate_hz=imu_rate_hz,
        fps=fps,
        source_id_prefix=f"bench-{uuid.uuid4().hex[:8]}",
        start_delay_s=0.0,
    )
    with session:
        time.sleep(1.0)  # warm up: textures of the first activity
        cpu0, wall0 = time.process_time(), time.monotonic()
        frames0, samples0 = session.camera.frames_pushed, session.imu.samples_pushed
        time.sleep(seconds)
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - wall0
        frames = session.camera.frames_pushed - frames0
        samples = session.imu.samples_pushed - samples0
    return {
        "imu_rate_hz": imu_rate_hz,
        "fps": fps,
        "cpu_percent_of_one_core": 100.0 * cpu / wall,
        "frames_per_s": frames / wall,
        "imu_samples_per_s": samples / wall,
        "frames_dropped": session.camera.frames_dropped,
    }


def render_ms(repeats: int = 60) -> dict[str, float]:
    motion = SyntheticMotion(DEFAULT_SCRIPT, seed=0)
    renderer = SceneRenderer((320, 240), seed=0)
    out = {}
    for segment, (activity, _) in enumerate(DEFAULT_SCRIPT):
        p = motion.params(segment)
        renderer.render(motion.pose(p.start_s))
        times = []
        for i in range(repeats):
            t = time.perf_counter()
            frame = renderer.render(motion.pose(p.start_s + i / 15))
            cv2.cvtColor(
                cv2.resize(frame, (160, 160), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB
            )
            times.append(time.perf_counter() - t)
        out[activity] = 1000.0 * float(np.median(times))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    machine = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "opencv_threads": cv2.getNumThreads(),
        "load_avg_before": os.getloadavg(),
    }
    print(machine)
    results = {"machine": machine, "render_plus_downscale_ms_median": render_ms(), "sessions": []}
    print(
        "render + downscale per frame (ms, median):",
        {k: round(v, 2) for k, v in results["render_plus_downscale_ms_median"].items()},
    )
    for rate, fps in ((50.0, 15.0), (200.0, 15.0), (50.0, 30.0)):
        row = session_cpu(rate, fps, args.seconds)
        results["sessions"].append(row)
        print(
            f"IMU {rate:.0f} Hz + {fps:.0f} fps: {row['cpu_percent_of_one_core']:.1f}% of one core "
            f"({row['frames_per_s']:.1f} frames/s, {row['imu_samples_per_s']:.1f} samples/s, "
            f"{row['frames_dropped']} frames dropped)"
        )
    machine["load_avg_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
