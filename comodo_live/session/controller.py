"""The engine controller: wires sources, readers, windowing, learning and recording; the one
object a front end (GUI or headless CLI) talks to.

Start order: session folder → sources (drivers / demo / replay) → stream readers → recorder →
learning pipeline (trainer, teacher, classifier, predictor) → windowing → housekeeping. Stop in
reverse: the recorder is finalised while the sources still push (LabRecorder writes ~0.5 s
late), and the pipeline writes a final checkpoint. Commands return quickly; slow work (starting
or finalising a recording, exporting, switching to a replay) runs one command at a time on the
controller's own :class:`~comodo_live.worker.CommandQueue`, which :meth:`Controller.stop` drains
and joins.

The snapshot and the metrics line are built (:mod:`comodo_live.session.snapshots`) from frozen
records: :meth:`Controller.session_status`, ``Pipeline.stats()`` and ``EngineStreams.status()``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.config import AppConfig
from comodo_live.imu_quality import ImuQuality, sample_problems
from comodo_live.learning import seed
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.personalise import Personaliser
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.metrics import MetricsLog
from comodo_live.recording.recorder import RecorderError
from comodo_live.records import PairedWindow
from comodo_live.session import folder as session_files
from comodo_live.session.disk_space import DiskGuard
from comodo_live.session.housekeeping import Housekeeper
from comodo_live.session.session_log import SessionLog
from comodo_live.session.snapshot import EngineSnapshot
from comodo_live.session.snapshots import SessionStatus, build_snapshot, metrics_line
from comodo_live.session.sources import Sources, make_marker_outlet, replay_only_sources
from comodo_live.session.streams import EngineStreams
from comodo_live.worker import CommandQueue, raise_errors

logger = logging.getLogger(__name__)

IMU_CHECK_S = 2.0  # newest IMU seconds looked at for bad data, every metrics line
IMU_WARNING_HOLD_S = 5.0  # an IMU warning stays this long after the problem was last seen


class Controller:
    """Runs one session; thread-safe commands and a cheap :meth:`snapshot`.

    Args:
        config: the app configuration (``config.source.mode``: live, demo or replay).
        sources_factory: builds the sources of ``config.source.mode``, called as
            ``factory(config, engine_marker_outlet)``: :func:`drivers.sources.make_sources`
            (demo, live, replay; what the app passes) or a custom LSL publisher. Default: the
            core's replay-only builder (demo and live sources are drivers).
        package: an already validated :class:`~comodo_live.export.load.ImportedModel` to start
            from (default: loaded at the first start when ``session.resume`` names an exported
            package folder). Its student and window settings override ``config``'s.
    """

    def __init__(
        self,
        config: AppConfig,
        sources_factory: Callable[[AppConfig, Any], Sources] | None = None,
        package: Any = None,
    ) -> None:
        self.config = config
        self._package = package  # an ImportedModel (engine/seed.py) to start the session from
        self._sources_factory = sources_factory or replay_only_sources
        self._window_listeners: list[Callable[[PairedWindow], None]] = []
        self.labels = LabelStore(config.predictor.max_windows_per_activity)
        self.board = PredictionBoard(config.predictor.history)
        self.session_dir: Path | None = None
        self.pipeline: Pipeline | None = None
        self.sources: Sources | None = None
        self.streams: EngineStreams | None = None
        self.marker_outlet: Any = None
        self.metrics: MetricsLog | None = None
        self._housekeeper: Housekeeper | None = None
        self._session_log: SessionLog | None = None
        self._lifecycle = threading.RLock()
        self._camera_lock = threading.Lock()
        self._errors: deque[str] = deque(maxlen=50)
        self._camera_on = config.camera.on_at_start
        self._running = False
        self._export_progress: float | None = None
        self._export_result: str | None = None
        self._commands = CommandQueue("comodo-commands", on_error=self.report_error)
        self._personaliser: Personaliser | None = None
        self._personalise_lock = threading.Lock()
        self.started_at = 0.0
        self._bytes = 0
        self._bytes_checked = -1e9
        self.imu_quality = ImuQuality(hold_s=IMU_WARNING_HOLD_S)  # bad IMU data, named
        self._bad_seen: dict[str, int] = {}
        self._disk: DiskGuard | None = None
        self._disk_warning = ""  # "no space left on <folder> ..." while the volume is (nearly) full
        self._disk_stopping = False  # a recording stop for lack of space is queued

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def report_error(self, message: str) -> None:
        """Show an error in the snapshot (newest last) and the log."""
        logger.error("%s", message)
        self._errors.append(f"{time.strftime('%H:%M:%S')} {message}")

    def start(self) -> None:
        """Start the whole pipeline (no-op when running). Errors raise, with everything stopped."""
        import torch

        with self._lifecycle:
            if self._running:
                return
            first_start = self.session_dir is None
            if first_start:
                self._apply_package()
            cfg = self.config
            if cfg.camera.on_at_start != self._camera_on:  # switched before (re)start: keep it
                cfg = cfg.replace({"camera.on_at_start": self._camera_on})
            torch.set_num_threads(cfg.trainer.torch_threads)
            created = self.session_dir is None
            if self.session_dir is None:
                self.session_dir = session_files.create_session_dir(
                    cfg.session.root, cfg.session.name, cfg
                )
            checkpoint = session_files.checkpoint_path(self.session_dir)
            self._disk = DiskGuard(self.session_dir)
            try:
                log_path = self.session_dir / session_files.LOG_NAME
                self._session_log = SessionLog(log_path).start()
                logger.info(
                    "session starting in %s (source.mode = %s)", self.session_dir, cfg.source.mode
                )
                self.metrics = MetricsLog(self.session_dir / session_files.METRICS_NAME)
                resume = checkpoint if checkpoint.is_file() else None
                if resume is None and first_start and self._package is None:
                    resume = session_files.resolve_resume(
                        cfg.session.resume, cfg.session.root, exclude=self.session_dir
                    )
                self.marker_outlet = make_marker_outlet()
                self.sources = self._sources_factory(cfg, self.marker_outlet)
                self.pipeline = Pipeline(
                    cfg, self.labels, self.board, checkpoint, self.metrics, truth=self._truth
                )
                self.pipeline.on_error = self.report_error
                if resume is not None:
                    self.pipeline.resume(resume)
                elif self._package is not None:
                    seed.seed_pipeline(self.pipeline, self._package)
                self.sources.start()
                self.streams = EngineStreams(
                    cfg,
                    self.sources,
                    self.session_dir,
                    self._on_window,
                    self.marker_outlet,
                    self._on_marker,
                )
                self.streams.start()
                if cfg.session.record:
                    self.streams.start_recording()
                begin = getattr(self.sources, "begin", None)
                if begin is not None:
                    begin()  # a replay starts its clock now that the readers are connected
                self.pipeline.start()
                self.streams.start_windowing()
                self.pipeline.set_camera(self._camera_on)
                self._housekeeper = Housekeeper(
                    cfg.session.metrics_every_s,
                    self.metrics_record,
                    self._failures,
                    self.report_error,
                    self.metrics,
                    tick=self.check_disk,
                )
                self._housekeeper.start()
                self._running = True
                self.started_at = time.monotonic()
            except BaseException:
                self._teardown()
                if created:  # a failed first start leaves no folder for a later resume to pick
                    session_files.remove_session_dir(self.session_dir)
                    self.session_dir = None
                raise

    def _apply_package(self) -> None:
        """Load the package named by ``session.resume`` (if any) and adopt its settings."""
        if self._package is None and seed.is_package(self.config.session.resume):
            self._package = seed.load_seed(self.config.session.resume)
        if self._package is not None:
            self.config = seed.config_for_package(self.config, self._package)

    def stop(self) -> None:
        """Stop everything in reverse order, finalise the recording, write a last checkpoint.

        The slow commands already queued run first (then their thread is joined); called from
        one of them (:meth:`open_replay`), the queue keeps running. Idempotent; safe from any
        thread except the engine's own workers.

        Raises:
            Under ``COMODO_RAISE=1``: the first failure of a fine-tune, a slow command or a
            worker, after everything is stopped.
        """
        try:
            self._stop_personalise()  # cancels a running fine-tune (COMODO_RAISE: re-raises)
        finally:
            try:
                self._commands.stop()  # outside the lifecycle lock: open_replay takes it
            finally:
                with self._lifecycle:
                    if self._running or self.pipeline is not None:
                        self._running = False
                        self._teardown()
                        self._finish_folder()

    def check_disk(self) -> str | None:
        """The housekeeper's free-space check: below the reserve, the recording is stopped (in
        the background; learning and predictions go on) and the user told once, in words.

        Returns:
            ``"no space left on <folder> ..."`` while space is short, else None.
        """
        disk, streams, session_dir = self._disk, self.streams, self.session_dir
        if disk is None or session_dir is None:
            return None
        problem = disk.check(session_files.checkpoint_path(session_dir))
        self._disk_warning = problem or ""
        recording = streams is not None and streams.recording
        if not recording:
            self._disk_stopping = False
        elif problem is not None and not self._disk_stopping and streams is not None:
            self._disk_stopping = True
            self.report_error(f"{problem}: recording stopped (learning and predictions go on)")
            self._in_background("recording-stop", lambda: self._finalise_recording(streams))
        return problem

    def _finalise_recording(self, streams: EngineStreams) -> None:
        """Stop ``streams``' recording; a file that could not be finalised is said in words."""
        try:
            streams.stop_recording()
        except RecorderError as exc:  # e.g. the disk is full: what was written still loads
            self.report_error(str(exc))

    def _finish_folder(self) -> None:
        """session.keep_video_data, then files 0600 / folders 0700 (recordings/README.md)."""
        if self.session_dir is None:
            return
        try:
            keep = self.config.session.keep_video_data
            for what in session_files.finish_session_dir(self.session_dir, keep):
                logger.info("keep_video_data = %r: removed %s", keep, what)
        except Exception as exc:  # the session is over; say so, keep what is there
            self.report_error(f"finishing the session folder failed: {exc}")

    def _teardown(self) -> None:
        errors: list[BaseException] = []

        def attempt(what: str, action: Any) -> None:
            try:
                action()
            except Exception as exc:
                said = str(exc) if isinstance(exc, OSError | RecorderError) else repr(exc)
                self.report_error(f"stopping {what} failed: {said}")
                errors.append(exc)

        if self._housekeeper is not None:
            attempt("housekeeping", self._housekeeper.stop)
        if self.streams is not None:
            attempt("windowing", self.streams.stop_windowing)
        if self.pipeline is not None:
            attempt("learning", self.pipeline.stop)
        if self.streams is not None:
            attempt("recording", self.streams.stop_recording)
            attempt("stream readers", self.streams.stop)
        if self.sources is not None:
            attempt("sources", self.sources.stop)
        if self.marker_outlet is not None:
            attempt("engine markers", self.marker_outlet.stop)
        if self._housekeeper is not None:
            self._housekeeper.write_metrics()  # the last line, with final counters
            self._housekeeper = None
        if self.metrics is not None:
            self.metrics.close()
        if self.config.session.report and self.session_dir is not None:
            from comodo_live.report import report_at_session_end  # never raises

            full = self._disk.check() if self._disk is not None else None
            if full is None:
                report_at_session_end(self.session_dir, self.report_error)
            else:  # a report would not fit (and reading a cut recording takes long)
                self.report_error(f"session report skipped: {full}")
        if self._session_log is not None:
            logger.info("session stopped")
            self._session_log.stop()
            self._session_log = None
        self.streams = None
        self.sources = None
        self.pipeline = None
        self.marker_outlet = None
        if errors and raise_errors():
            raise errors[0]

    def __enter__(self) -> Controller:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_window_listener(self, listener: Callable[[PairedWindow], None]) -> None:
        """Also hand every window to ``listener`` (windowing thread; keep it fast). For
        benchmarks and tools that evaluate on the same windows the engine sees."""
        self._window_listeners.append(listener)

    def _on_window(self, paired: PairedWindow) -> None:
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.submit(paired)
        for listener in self._window_listeners:
            listener(paired)

    def _on_marker(self, t: float, text: str) -> None:
        """Label markers from the sources' marker streams (other lab software, replays)."""
        from comodo_live.learning.labels import shown
        from comodo_live.streams.names import MARKER_LABEL_START, MARKER_LABEL_STOP

        try:
            if text.startswith(MARKER_LABEL_START):
                self.labels.start_label(text[len(MARKER_LABEL_START) :], t)
            elif text == MARKER_LABEL_STOP:
                self.labels.stop_label(t)
        except ValueError as exc:  # a bad name from another program: report, never crash
            self.report_error(f"marker {shown(text)} ignored: {exc}")

    def _truth(self, t0: float, t1: float) -> str | None:
        streams = self.streams
        if streams is None:
            return None
        return streams.activity_over(t0, t1)

    def _in_background(self, name: str, action: Callable[[], object]) -> None:
        """Queue a slow command (its failure is reported like a worker's)."""
        try:
            self._commands.submit(name, action)
        except RuntimeError as exc:  # too many waiting: the user pressed too often
            self.report_error(str(exc))

    # --- commands -----------------------------------------------------------------------------
    def set_camera(self, on: bool) -> None:
        """Privacy mode when off: the camera is released; no frame is read, published,
        encoded or recorded until it is switched on again. A marker records each switch."""
        on = bool(on)
        with self._camera_lock:
            if on == self._camera_on:
                return
            self._camera_on = on
            pipeline, streams, sources = self.pipeline, self.streams, self.sources
            if pipeline is not None:
                pipeline.set_camera(on)
            if streams is not None:
                streams.camera_switched(on)
            if sources is not None:
                sources.set_camera(on)

    @property
    def camera_on(self) -> bool:
        return self._camera_on

    def add_activity(self, name: str) -> None:
        self._command(self.labels.add_activity, name)

    def rename_activity(self, old: str, new: str) -> None:
        self._command(self.labels.rename_activity, old, new)

    def delete_activity(self, name: str) -> None:
        self._command(self.labels.delete_activity, name)

    def start_label(self, name: str) -> None:
        """Label what happens from now on as ``name`` (added if new)."""
        from comodo_live.streams.names import MARKER_LABEL_START

        now = _lsl_now()
        stored = self._command(self.labels.start_label, name, now)
        if stored is not None and self.streams is not None:
            self.streams.push_marker(MARKER_LABEL_START + stored, now)

    def stop_label(self) -> None:
        from comodo_live.streams.names import MARKER_LABEL_STOP

        now = _lsl_now()
        if self.labels.labelling is None:
            return
        self.labels.stop_label(now)
        if self.streams is not None:
            self.streams.push_marker(MARKER_LABEL_STOP, now)

    def _command(self, action: Any, *args: Any) -> Any:
        try:
            return action(*args)
        except (KeyError, ValueError) as exc:
            self.report_error(str(exc).strip("'\""))
            if raise_errors():
                raise
            return None

    def start_recording(self) -> None:
        """Start writing the XDF (+ video) into the session folder (in the background)."""
        streams = self.streams
        if streams is not None and not streams.recording:
            self._in_background("recording-start", streams.start_recording)

    def stop_recording(self) -> None:
        """Finalise the recording (in the background; the file loads with pyxdf afterwards)."""
        streams = self.streams
        if streams is not None and streams.recording:
            self._in_background("recording-stop", lambda: self._finalise_recording(streams))

    def start_export(self, out_dir: str) -> None:
        """Export the personalised model (off the UI thread); progress in the snapshot."""
        if self._export_progress is not None:
            return
        self._export_progress = 0.0
        self._export_result = None
        self._in_background("export", lambda: self._export(Path(out_dir)))

    def _export(self, out_dir: Path) -> None:
        try:
            from comodo_live.export.package import export_session

            pipeline = self.pipeline
            if pipeline is not None:
                pipeline.save_checkpoint()
            assert self.session_dir is not None

            def progress(fraction: float, *_: object) -> None:
                self._export_progress = float(fraction)

            result = export_session(self.session_dir, out_dir, progress=progress)
            self._export_result = str(result if result is not None else out_dir)
        except Exception as exc:
            self._export_result = f"error: {exc}"
            self.report_error(f"export failed: {exc}")
        finally:
            self._export_progress = None

    def start_personalise(self, steps: int | None = None) -> None:
        """Fine-tune the student on the labelled windows (off the UI thread, one at a time).

        The fine-tuned encoder becomes the student and EMA start point (predictor, export and
        resume use it; distillation continues from it): see :mod:`comodo_live.learning.personalise`.
        Progress and result in the snapshot (``personalise_progress``, ``personalise_result``).
        Too few labelled activities, a bad ``steps`` or a stopped engine → ``snapshot.errors``
        (re-raised under COMODO_RAISE=1).

        Args:
            steps: optimiser steps (default ``config.predictor.personalise_steps``), >= 1.
        """
        with self._personalise_lock:
            if self._personaliser is not None and self._personaliser.running:
                return
            self._command(self._start_personaliser, steps)

    def _start_personaliser(self, steps: int | None) -> None:
        pipeline = self.pipeline
        if pipeline is None or not pipeline.running:
            raise ValueError("personalise needs a running session (start the engine first)")
        count = self.config.predictor.personalise_steps if steps is None else steps
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"steps must be an int >= 1, got {steps!r}")
        personaliser = Personaliser(pipeline, count, on_error=self.report_error)
        personaliser.start()  # raises ValueError (too few labelled activities) before a thread
        self._personaliser = personaliser

    def _stop_personalise(self) -> None:
        with self._personalise_lock:
            personaliser = self._personaliser
        if personaliser is not None:
            personaliser.stop()

    @property
    def personalise_state(self) -> tuple[float | None, str | None]:
        """(progress in [0, 1] or None when idle, last result or None)."""
        personaliser = self._personaliser
        if personaliser is None:
            return None, None
        return personaliser.progress, personaliser.result

    def open_replay(self, path: str) -> None:
        """Switch the session's sources to replaying an XDF file (learning state carries over)."""
        replay = self.config.replace({"source.mode": "replay", "source.replay_path": str(path)})

        def switch() -> None:
            with self._lifecycle:
                self.stop()
                self.config = replay
                self.start()

        self._in_background("open-replay", switch)

    # --- queries ------------------------------------------------------------------------------
    def imu_plot_data(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Recent IMU samples: ``t`` (N,) LSL seconds, ``data`` (6, N) in m/s², rad/s."""
        streams = self.streams
        if streams is None:
            return np.zeros(0), np.zeros((6, 0), np.float32)
        return streams.imu_plot_data(seconds)

    def latest_preview(self) -> np.ndarray | None:
        """Newest camera frame (H, W, 3) uint8 RGB; None in privacy mode or before a frame."""
        sources = self.sources
        if not self._camera_on or sources is None or sources.frame_bus is None:
            return None
        frame = sources.frame_bus.latest()
        return None if frame is None else frame.rgb

    def snapshot(self) -> EngineSnapshot:
        """Everything a front end shows, copied now (cheap; never waits on the trainer)."""
        pipeline, streams, camera_on = self.pipeline, self.streams, self._camera_on
        snap = build_snapshot(
            self.session_status(),
            pipeline.stats() if pipeline is not None else None,
            streams.status(camera_on) if streams is not None else None,
            self.board,
            self.labels,
        )
        warnings = self.imu_quality.warnings(time.monotonic())
        if warnings:
            snap = dataclasses.replace(snap, imu_warnings=warnings)
        disk = self._disk_warning
        return dataclasses.replace(snap, disk_warning=disk) if disk else snap

    def session_status(self) -> SessionStatus:
        """The controller's own figures (camera, folder, errors, export, fine-tune), now."""
        export_progress, export_result = self.export_state
        personalise_progress, personalise_result = self.personalise_state
        session_dir = self.session_dir
        return SessionStatus(
            camera_on=self._camera_on,
            session_dir=str(session_dir) if session_dir is not None else "",
            recording_bytes=self.recording_bytes(),
            errors=self.errors,
            export_progress=export_progress,
            export_result=export_result,
            personalise_progress=personalise_progress,
            personalise_result=personalise_result,
        )

    def metrics_record(self) -> dict[str, Any]:
        """The ``metrics.jsonl`` line for now (learning figures only while running)."""
        pipeline = self.pipeline
        stats = pipeline.stats() if pipeline is not None else None
        streams = self.streams
        status = streams.status(self._camera_on) if streams is not None else None
        record = metrics_line(self._camera_on, stats, self.board, self.labels, status)
        record["imu_warnings"] = list(self.check_imu())
        record["disk_warning"] = self._disk_warning or None
        if pipeline is not None:
            record["bad_windows"] = dict(pipeline.bad_windows)
        return record

    def check_imu(self) -> tuple[str, ...]:
        """Look at the newest IMU samples and skipped windows (the housekeeper, every
        ``session.metrics_every_s``); returns the IMU warnings active now, in words."""
        now = time.monotonic()
        t, data = self.imu_plot_data(IMU_CHECK_S)
        problems = sample_problems(t, data, _lsl_now()) if t.size else []
        streams = self.streams
        if streams is not None:  # an IMU back on LSL with other channels (never read again)
            problems += streams.imu_stream_problems()
        pipeline = self.pipeline
        if pipeline is not None:
            skipped = dict(pipeline.bad_windows)
            problems += [p for p, n in skipped.items() if n > self._bad_seen.get(p, 0)]
            self._bad_seen = skipped
        self.imu_quality.observe(problems, now)
        return self.imu_quality.warnings(now)

    def _failures(self) -> list[str]:
        pipeline, streams = self.pipeline, self.streams
        failures = list(pipeline.stats().failures) if pipeline is not None else []
        if streams is not None:
            failures.extend(streams.status(self._camera_on).failures)
        return failures

    def recording_bytes(self) -> int:
        """Size of the session's XDF + video files, bytes (refreshed at most once a second)."""
        now = time.monotonic()
        if self.session_dir is not None and now - self._bytes_checked >= 1.0:
            self._bytes_checked = now
            self._bytes = session_files.folder_bytes(self.session_dir)
        return self._bytes

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(self._errors)

    @property
    def export_state(self) -> tuple[float | None, str | None]:
        return self._export_progress, self._export_result


EngineController = Controller


def _lsl_now() -> float:
    import pylsl

    return float(pylsl.local_clock())
