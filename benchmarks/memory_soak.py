"""Memory soak: RSS of a long headless demo run (target: growth < 50 MB over 20 minutes).

Runs the controller in this process on the synthetic demo, real time, with recording on: it
labels each activity once during the first script pass, keeps the camera on for the first 3/4
of the run and in privacy mode for the rest, and samples this process's resident set size
(VmRSS) every ``--every-s`` seconds. Growth is measured from the end of the warm-up (models
loaded, training under way, first checkpoint written) to the end. The JSON is rewritten at
every sample, so a run cut short still leaves its figures.

    nohup python benchmarks/memory_soak.py --minutes 20 > benchmarks/results/memory_soak.log 2>&1 &
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pylsl

from comodo_live.config import load_config
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_acceptance import RESULTS, machine


def rss_mb(pid: str = "self") -> float:
    """Resident set size of a process, MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("VmRSS not found")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="run length, minutes")
    parser.add_argument(
        "--warmup-s", type=float, default=120.0, help="growth is measured after this, s"
    )
    parser.add_argument("--every-s", type=float, default=10.0, help="sampling period, s")
    parser.add_argument(
        "--set", action="append", default=[], help="config override section.key=value"
    )
    parser.add_argument("--out", default=str(RESULTS / "memory_soak.json"))
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="comodo-soak-"))
    config = load_config(
        overrides=[*args.set, "source.mode=demo", f"session.root={root}", "session.name=soak"]
    )
    duration = args.minutes * 60.0
    ctl = Controller(config, sources_factory=make_sources)
    samples: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "schema": "memory_soak/1",
        "machine": machine(),
        "command": " ".join(sys.argv),
        "minutes": args.minutes,
        "warmup_s": args.warmup_s,
    }
    rss_before = rss_mb()
    t0 = time.monotonic()
    ctl.start()
    try:
        motion = ctl.sources.session.motion  # type: ignore[union-attr]
        plan = [
            (
                a,
                motion.t0 + motion.segment_start(i) + 1.0,
                motion.t0 + motion.segment_start(i) + d - 1.0,
            )
            for i, (a, d) in enumerate(motion.script)
        ]
        next_sample = t0
        while (elapsed := time.monotonic() - t0) < duration:
            now = pylsl.local_clock()
            if plan and ctl.labels.labelling is None and now >= plan[0][1]:
                ctl.start_label(plan[0][0])
            if plan and ctl.labels.labelling is not None and now >= plan[0][2]:
                ctl.stop_label()
                plan.pop(0)
            if ctl.camera_on and elapsed >= 0.75 * duration:
                ctl.set_camera(False)
            if time.monotonic() >= next_sample:
                next_sample += args.every_s
                snap = ctl.snapshot()
                samples.append(
                    {
                        "t_s": round(elapsed, 1),
                        "rss_mb": round(rss_mb(), 1),
                        "camera_on": snap.camera_on,
                        "step": snap.train.step if snap.train else 0,
                        "errors": len(snap.errors),
                    }
                )
                after = [s["rss_mb"] for s in samples if s["t_s"] >= args.warmup_s]
                result.update(
                    rss_before_start_mb=rss_before,
                    rss_at_warmup_mb=after[0] if after else None,
                    rss_end_mb=samples[-1]["rss_mb"],
                    rss_max_mb=max(s["rss_mb"] for s in samples),
                    growth_after_warmup_mb=(after[-1] - after[0]) if after else None,
                    elapsed_s=elapsed,
                    samples=samples,
                )
                Path(args.out).write_text(json.dumps(result, indent=1))
                print(
                    f"[{elapsed:7.1f} s] rss {samples[-1]['rss_mb']:.1f} MB step {samples[-1]['step']} "
                    f"camera {'on' if snap.camera_on else 'off'}",
                    flush=True,
                )
            time.sleep(0.05)
    finally:
        ctl.stop()
    result["errors"] = list(ctl.snapshot().errors)
    growth = result.get("growth_after_warmup_mb")
    result["targets"] = {"growth_after_warmup_mb_max": 50.0}
    result["passed"] = growth is not None and growth < 50.0 and args.minutes >= 20
    result["finished"] = True
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
