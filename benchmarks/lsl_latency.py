"""LSL transport and local frame delivery benchmark (loopback, machine-scoped LSL config).

Measures, on this machine:

- transport latency push → pull (median / p95 / p99, ms) for a 6-channel IMU stream (200 Hz) and
  a frame-index stream (30 Hz) pushed at the same time, read (a) by a bare pylsl inlet with
  ``pull_chunk(timeout, min_samples=1)`` and (b) by :class:`StreamReader` (the app's path);
- frame delivery latency to the local consumer: capture time → the frame is on the
  :class:`FrameBus` (the camera driver reading ``gopro_walk.mp4``; consumer polls every 0.5 ms);
- sustained camera frame rate at 160² and 224² from that video file, at its own 29.97 fps and
  asked for 60 and 120 fps (achieved fps, dropped frames);
- :meth:`Windower.poll` cost and window latency (last sample received → window returned);
- :class:`SessionRecorder` start and stop (until footers are on disk) times.

The CPU may be shared with other jobs: the load average before and after is recorded.

Usage: ``python benchmarks/lsl_latency.py [--seconds 6]``
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import json
import os
import platform
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pylsl

from comodo_live.recording.recorder import SessionRecorder
from comodo_live.streams.frames import FrameBus, frame_bus
from comodo_live.streams.reader import StreamReader
from comodo_live.streams.windowing import Windower

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "lsl_latency.json"
SHARED_VIDEO = (
    Path(os.environ.get("COMODO_SHARED_DATA", ROOT.parent / "shared" / "data"))
    / "video_imu"
    / "gopro_walk.mp4"
)


def _stats(values_s: list[float] | np.ndarray) -> dict[str, float]:
    ms = np.asarray(values_s, dtype=np.float64) * 1e3
    if ms.size == 0:
        return {"n": 0}
    return {
        "median_ms": round(float(np.median(ms)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "max_ms": round(float(ms.max()), 4),
        "n": int(ms.size),
    }


def _pull_latencies(inlet: pylsl.StreamInlet, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        _, stamps = inlet.pull_chunk(timeout=0.1, max_samples=64, min_samples=1, as_numpy=True)
        now = pylsl.local_clock()
        out.extend((now - np.asarray(stamps)).tolist())


def _pace(outlet: pylsl.StreamOutlet, rate: float, n: int, width: int) -> None:
    t0 = pylsl.local_clock()
    for k in range(n):
        delay = t0 + k / rate - pylsl.local_clock()
        if delay > 0:
            time.sleep(delay)
        outlet.push_sample(np.full(width, k, np.float32), pylsl.local_clock())


def transport(seconds: float) -> dict[str, Any]:
    """IMU (200 Hz) and frame-index (30 Hz) pushed concurrently; bare inlet and StreamReader."""
    tag = uuid.uuid4().hex[:8]
    streams = {"imu": (200.0, 6), "frame_index": (30.0, 1)}
    outlets, inlets, readers = {}, {}, {}
    raw: dict[str, list[float]] = {k: [] for k in streams}
    app: dict[str, list[float]] = {k: [] for k in streams}
    for kind, (rate, width) in streams.items():
        info = pylsl.StreamInfo(
            f"bench-{kind}", kind, width, rate, "float32", f"bench-{kind}-{tag}"
        )
        outlets[kind] = pylsl.StreamOutlet(info)
        inlets[kind] = pylsl.StreamInlet(pylsl.resolve_byprop("source_id", info.source_id())[0])
        inlets[kind].open_stream(timeout=5)

        def hook(stamps: np.ndarray, _: object, sink: list[float] = app[kind]) -> None:
            sink.extend((pylsl.local_clock() - stamps).tolist())

        readers[kind] = StreamReader(info.source_id(), dejitter=False, on_chunk=hook).start()
    for reader in readers.values():
        reader.wait_ready()
    stop = threading.Event()
    pullers = [
        threading.Thread(target=_pull_latencies, args=(inlets[k], stop, raw[k])) for k in streams
    ]
    pushers = [
        threading.Thread(target=_pace, args=(outlets[k], r, int(seconds * r), w))
        for k, (r, w) in streams.items()
    ]
    for thread in pullers + pushers:
        thread.start()
    for thread in pushers:
        thread.join()
    time.sleep(0.3)
    stop.set()
    for thread in pullers:
        thread.join()
    result: dict[str, Any] = {}
    for kind in streams:
        offset = readers[kind].time_offset_s  # the reader shifted stamps by this much
        readers[kind].stop()
        result[kind] = {
            "pylsl_inlet": _stats(raw[kind]),
            "stream_reader": _stats(np.asarray(app[kind]) + offset),
        }
    return result


def camera(video: Path, size: int, fps: float | None, seconds: float) -> dict[str, Any]:
    """Run the camera driver on ``video``; frame delivery latency and achieved frame rate."""
    from drivers.camera import CameraDriver  # drivers publish; the core never imports them

    source_id = f"bench-cam-{uuid.uuid4().hex[:8]}"
    driver = CameraDriver(video, fps=fps, teacher_size=(size, size), source_id=source_id)
    bus: FrameBus = frame_bus(source_id)
    delivery: list[float] = []
    stop = threading.Event()

    def consume() -> None:
        last = -1
        while not stop.is_set():
            frame = bus.latest()
            if frame is not None and bus.published != last:
                last = bus.published
                delivery.append(pylsl.local_clock() - frame.timestamp)
            time.sleep(0.0005)

    consumer = threading.Thread(target=consume)
    with driver:
        reader_latency: list[float] = []
        reader = StreamReader(
            source_id,
            dejitter=False,
            on_chunk=lambda s, _: reader_latency.extend((pylsl.local_clock() - s).tolist()),
        ).start()
        consumer.start()
        time.sleep(1.0)  # warm up (decoder, reader clock)
        pushed0, dropped0, t0 = driver.frames_pushed, driver.frames_dropped, time.monotonic()
        delivery.clear()
        reader_latency.clear()
        time.sleep(seconds)
        pushed, dropped = driver.frames_pushed - pushed0, driver.frames_dropped - dropped0
        elapsed = time.monotonic() - t0
        stop.set()
        consumer.join()
        offset = reader.time_offset_s
        reader.stop()
    return {
        "teacher_size": f"{size}x{size}",
        "requested_fps": round(driver.nominal_fps, 3),
        "achieved_fps": round(pushed / elapsed, 2),
        "dropped_frames": dropped,
        "frame_delivery_to_framebus": _stats(delivery),
        "frame_index_transport_stream_reader": _stats(np.asarray(reader_latency) + offset),
    }


def windower(seconds: float) -> dict[str, Any]:
    """IMU at 200 Hz (20 ms chunks) + 30 fps 160² frames; poll every 0.25 s (2 s windows)."""
    tag = uuid.uuid4().hex[:8]
    outlet = pylsl.StreamOutlet(
        pylsl.StreamInfo("bench-imu", "IMU", 6, 200.0, "float32", f"w-{tag}")
    )
    bus = frame_bus(f"w-cam-{tag}")
    stop = threading.Event()

    def produce() -> None:
        t0, k, f = pylsl.local_clock(), 0, 0
        while not stop.is_set():
            now = pylsl.local_clock()
            n = int((now - t0) * 200) - k
            if n > 0:
                stamps = t0 + (k + np.arange(n)) / 200.0
                outlet.push_chunk(
                    np.random.default_rng(k).normal(size=(n, 6)).astype(np.float32), stamps.tolist()
                )
                k += n
            while t0 + f / 30.0 <= now:
                bus.publish(f, t0 + f / 30.0, np.zeros((160, 160, 3), np.uint8))
                f += 1
            time.sleep(0.02)

    reader = StreamReader(f"w-{tag}", buffer_s=10.0).start()
    reader.wait_ready()
    producer = threading.Thread(target=produce)
    producer.start()
    win = Windower(reader, 2.0, 0.25, 50.0, frame_source=bus, frames_per_clip=8)
    poll_s, latency_s, paired = [], [], 0
    deadline = time.monotonic() + seconds + 2.5
    while time.monotonic() < deadline:
        time.sleep(0.25)
        start = time.perf_counter()
        windows = win.poll()
        poll_s.append(time.perf_counter() - start)
        now = pylsl.local_clock()
        latency_s.extend(now - w.imu.t_last_push for w in windows)
        paired += sum(w.clip is not None for w in windows)
    stop.set()
    producer.join()
    reader.stop()
    return {
        "poll": _stats(poll_s[10:]),  # after the first window exists
        "last_sample_to_window": _stats(latency_s),
        "windows": win.stats.emitted,
        "paired_windows": paired,
    }


def recorder() -> dict[str, Any]:
    """Start and stop (footers on disk) times of a 3-stream recording of ~1 s."""
    tag = uuid.uuid4().hex[:8]
    outlets = [
        pylsl.StreamOutlet(pylsl.StreamInfo(f"r{i}", "IMU", 6, 100.0, "float32", f"rec-{i}-{tag}"))
        for i in range(3)
    ]
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.monotonic()
        rec = SessionRecorder(Path(folder) / "s.xdf", [f"rec-{i}-{tag}" for i in range(3)]).start()
        started = time.monotonic() - t0
        for _ in range(100):
            for outlet in outlets:
                outlet.push_sample(np.zeros(6, np.float32))
            time.sleep(0.01)
        t1 = time.monotonic()
        rec.stop()
        stopped = time.monotonic() - t1
    return {"start_s": round(started, 3), "stop_until_finalised_s": round(stopped, 3)}


def _synthetic_video(folder: Path) -> Path:
    path = folder / "synthetic.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (848, 480))
    rng = np.random.default_rng(0)
    for _ in range(150):
        writer.write(rng.integers(0, 255, (480, 848, 3), dtype=np.uint8))
    writer.release()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each measurement")
    args = parser.parse_args(argv)
    import torch

    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "pylsl": pylsl.__version__,
        "liblsl": pylsl.library_version(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(machine), flush=True)
    results: dict[str, Any] = {"machine": machine}
    results["transport"] = transport(args.seconds)
    print(json.dumps({"transport": results["transport"]}, indent=1), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        video = SHARED_VIDEO if SHARED_VIDEO.is_file() else _synthetic_video(Path(folder))
        results["camera_video"] = video.name
        results["camera"] = [
            camera(video, size, fps, args.seconds)
            for size in (160, 224)
            for fps in (None, 60.0, 120.0)
        ]
    for row in results["camera"]:
        print(json.dumps(row), flush=True)
    results["windower"] = windower(args.seconds)
    print(json.dumps({"windower": results["windower"]}), flush=True)
    results["recorder"] = recorder()
    print(json.dumps({"recorder": results["recorder"]}), flush=True)
    machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
