"""One configuration tree for the app: frozen dataclasses loaded from TOML with CLI overrides.

Every field name carries its unit (``window_s``, ``rate_hz``, ``size_px``). Defaults work out of
the box (:file:`comodo_live/default_config.toml` holds the same values, documented). Load with
:func:`load_config`; override single keys with ``"section.key=value"`` strings (the CLI's
``--set``). Invalid values raise :class:`ConfigError` naming the key, the value and the valid
range.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if typing.TYPE_CHECKING:
    from comodo_live.training.core import Recipe

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")


class ConfigError(ValueError):
    """An invalid configuration key or value."""


def _rng(lo: float | None = None, hi: float | None = None, choices: tuple[str, ...] = ()) -> Any:
    """Field metadata: inclusive numeric range and/or allowed string values."""
    return {"range": (lo, hi), "choices": choices}


@dataclass(frozen=True)
class WindowConfig:
    """IMU windowing on the common LSL clock.

    Attributes:
        window_s: window length, seconds.
        hop_s: step between windows (and between predictions), seconds.
        rate_hz: IMU rate the student sees (windows are resampled to it, low-pass filtered
            first when the IMU is faster), Hz.
        max_frame_gap_s: largest gap between camera frames inside a window for the window to
            pair with a clip, seconds; 0 = auto (2.5 median frame intervals, at least 0.2 s).
    """

    window_s: float = field(default=2.0, metadata=_rng(0.2, 30.0))
    hop_s: float = field(default=0.5, metadata=_rng(0.05, 10.0))
    rate_hz: float = field(default=50.0, metadata=_rng(5.0, 1000.0))
    max_frame_gap_s: float = field(default=0.0, metadata=_rng(0.0, 60.0))

    @property
    def samples(self) -> int:
        """Samples per window at ``rate_hz``."""
        return round(self.window_s * self.rate_hz)


@dataclass(frozen=True)
class SourceConfig:
    """Where the session's streams come from.

    Attributes:
        mode: ``"live"`` (camera + IMU drivers from [camera] / [imu]), ``"demo"`` (the
            synthetic session of [demo]) or ``"replay"`` (an XDF file, ``replay_path``).
        replay_path: XDF session to replay (mode ``"replay"``).
        replay_speed: replay speed factor (1 = real time).
        replay_loop: restart the replay at its end.
        replay_labels: label CSV for the replay (start,stop,activity; seconds from the
            recording's first IMU sample), applied as label markers; "" for none.
        replay_label_map: the replay's markers in another vocabulary, each ``FROM=TO`` (e.g.
            ``walk_start=label:start:walk``) or the path of a file of such lines.
    """

    mode: str = field(default="live", metadata=_rng(choices=("live", "demo", "replay")))
    replay_path: str = ""
    replay_speed: float = field(default=1.0, metadata=_rng(0.1, 20.0))
    replay_loop: bool = False
    replay_labels: str = ""
    replay_label_map: tuple[str, ...] = ()


@dataclass(frozen=True)
class CameraConfig:
    """Camera source (live drivers mode).

    Attributes:
        source: a device index (``"0"``), a video file path, or ``"synthetic"``.
        width_px: width of the downscaled frames handed to the teacher and preview, pixels.
        height_px: height of those frames, pixels.
        fps_hz: capture rate, frames/s.
        on_at_start: camera on when the session starts (False: start in privacy mode).
        record_video: write the session video file while recording.
    """

    source: str = "0"
    width_px: int = field(default=160, metadata=_rng(16, 4096))
    height_px: int = field(default=120, metadata=_rng(16, 4096))
    fps_hz: float = field(default=15.0, metadata=_rng(1.0, 120.0))
    on_at_start: bool = True
    record_video: bool = True


@dataclass(frozen=True)
class ImuConfig:
    """IMU source (live drivers mode).

    Attributes:
        source: ``"synthetic"``, ``"csv:PATH"``, ``"serial:PORT"``, ``"udp:PORT"`` (a driver
            started by the engine) or ``"lsl:SOURCE_ID"`` (an IMU stream already on LSL, e.g.
            ``python -m drivers.imu ... --source-id SOURCE_ID`` or another lab tool; resolved
            by its source_id, no driver started), or ``"lsl:type=IMU,name=MyIMU"`` (by name,
            type and/or hostname, as LabRecorder picks streams; refused when several match).
        rate_hz: nominal rate of the source, Hz (drivers only; an ``lsl:`` stream has its own).
    """

    source: str = "udp:5555"
    rate_hz: float = field(default=100.0, metadata=_rng(5.0, 2000.0))


@dataclass(frozen=True)
class AudioConfig:
    """Microphone recorded with a live session (mono LSL ``Audio`` stream, in the XDF).

    Attributes:
        enabled: start the microphone driver in live mode (off by default: many machines have
            no microphone; the demo and replay modes never open one).
        device: sounddevice input device, an index (``"1"``) or a name substring; ``""`` for
            the system default input.
        rate_hz: sampling rate, Hz.
    """

    enabled: bool = False
    device: str = ""
    rate_hz: int = field(default=16000, metadata=_rng(4000, 192000))


@dataclass(frozen=True)
class DemoConfig:
    """Synthetic demo session (``--demo``).

    Attributes:
        activities: scripted activities in order (>= 2 distinct; known to the synthetic
            drivers: walking, running, sitting, waving, cycling).
        segment_s: how long each scripted activity lasts, seconds.
        seed: script and signal seed.
    """

    activities: tuple[str, ...] = ("walking", "sitting", "running", "waving", "cycling")
    segment_s: float = field(default=12.0, metadata=_rng(1.0, 600.0))
    seed: int = field(default=0, metadata=_rng(0, 2**31 - 1))


@dataclass(frozen=True)
class TeacherConfig:
    """Frozen video teacher and its frozen projection.

    Attributes:
        name: teacher model (``"efficientnet-lite0"``; ``"videomae"``, ``"timesformer"``,
            ``"xclip"`` need ``path``).
        path: local model folder or hub id for the transformers teachers ("" for the default).
        frames: frames sampled from each window's clip.
        size_px: teacher input size (square), pixels.
        embed_dim: projected teacher embedding size D.
        proj_hidden: frozen projection MLP hidden width.
        proj_seed: seed of the frozen projection.
        centre_features: centre teacher features with a running mean before projecting.
        segments: temporal segments whose features are concatenated (frames % segments == 0).
        stats_warmup_clips: clips folded into the feature mean before pairs reach the trainer.
    """

    name: str = "efficientnet-lite0"
    path: str = ""
    frames: int = field(default=4, metadata=_rng(1, 64))
    size_px: int = field(default=112, metadata=_rng(32, 512))
    embed_dim: int = field(default=128, metadata=_rng(8, 4096))
    proj_hidden: int = field(default=2048, metadata=_rng(8, 8192))
    proj_seed: int = field(default=0, metadata=_rng(0, 2**31 - 1))
    centre_features: bool = True
    segments: int = field(default=2, metadata=_rng(1, 64))
    stats_warmup_clips: int = field(default=8, metadata=_rng(0, 10_000))


@dataclass(frozen=True)
class StudentConfig:
    """The default 1-D CNN IMU student (:class:`comodo_live.models.student.ImuStudent`).

    Attributes:
        embed_dim: backbone embedding size E (what the classifier sees).
        width: channels of the first stage.
        kernel_size: conv kernel size, samples (odd).
        proj_hidden: projection head hidden width.
        seed: construction seed.
    """

    embed_dim: int = field(default=256, metadata=_rng(8, 4096))
    width: int = field(default=64, metadata=_rng(4, 1024))
    kernel_size: int = field(default=5, metadata=_rng(1, 63))
    proj_hidden: int = field(default=2048, metadata=_rng(8, 8192))
    seed: int = field(default=0, metadata=_rng(0, 2**31 - 1))


@dataclass(frozen=True)
class TrainerConfig:
    """Continual COMODO distillation (the shared recipe, :mod:`comodo_live.training.core`).

    Defaults were chosen on validation folds of UTD-MHAD's training subjects
    (``benchmarks/live_recipe_validation.py``, ``benchmarks/results/live_recipe_validation.json``).

    Attributes:
        batch_size: pairs per optimiser step.
        lr: peak AdamW learning rate of each round.
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of each round's steps with a linear warm-up, [0, 1).
        queue_size: COMODO teacher queue length K (each teacher embedding enters it once).
        tau_t: teacher temperature.
        tau_s: student temperature.
        ema_decay: per-step decay of the EMA student that serves predictions.
        replay_size: (IMU window, teacher embedding) pairs kept (the whole session up to this
            cap, ~3 KB each; beyond it the oldest are overwritten).
        min_pairs: new pairs a training round needs at least (the first round starts when this
            many pairs are stored).
        replay_ratio: optimiser steps per new pair: a round over P new pairs lasts
            ceil(replay_ratio × P) steps (warm-up, then cosine decay to 0).
        round_growth: a later round waits for max(min_pairs, round_growth × pairs already
            trained on) new pairs, capped at ``round_max_pairs``; with the camera off no round
            starts, so training stops (camera-off flushes the pairs still waiting).
        round_max_pairs: cap on the new pairs a round waits for.
        augment: random IMU augmentation (rotation, gain, time warp, jitter) of replayed windows.
        max_grad_norm: gradient clipping norm.
        divergence_norm: a gradient or parameter norm above this is divergence (skip + roll back).
        max_steps_per_s: cap on optimiser steps/s (0 = as fast as possible).
        checkpoint_every_s: seconds between atomic checkpoints.
        publish_every_s: seconds between EMA snapshots handed to the predictor.
        hold_out_every: of each activity's labelled stretches, the 2nd, (k+1)-th, (2k+1)-th …
            (k = this) make no distillation pair and are the student guard's test data, so the
            guard judges the student on windows it never trained on; 1 = every labelled
            stretch, 0 = none (the guard then scores windows the student trained on: biased).
        imu_stats_windows: IMU windows (camera on or off) whose per-channel mean/std fix the
            student's input normalisation before training starts; then frozen.
        torch_threads: torch intra-op threads, process-wide (teacher, trainer and predictor each
            run in their own thread, so 1 keeps two cores busy without oversubscription).
    """

    batch_size: int = field(default=64, metadata=_rng(2, 4096))
    lr: float = field(default=3e-4, metadata=_rng(1e-7, 1.0))
    weight_decay: float = field(default=0.01, metadata=_rng(0.0, 1.0))
    warmup_fraction: float = field(default=0.1, metadata=_rng(0.0, 0.99))
    queue_size: int = field(default=4096, metadata=_rng(1, 1_000_000))
    tau_t: float = field(default=0.1, metadata=_rng(1e-3, 10.0))
    tau_s: float = field(default=0.05, metadata=_rng(1e-3, 10.0))
    ema_decay: float = field(default=0.99, metadata=_rng(0.0, 0.99999))
    replay_size: int = field(default=50_000, metadata=_rng(8, 1_000_000))
    min_pairs: int = field(default=128, metadata=_rng(2, 1_000_000))
    replay_ratio: float = field(default=0.5, metadata=_rng(1e-3, 1000.0))
    round_growth: float = field(default=1.0, metadata=_rng(0.0, 100.0))
    round_max_pairs: int = field(default=2048, metadata=_rng(2, 1_000_000))
    augment: bool = True
    hold_out_every: int = field(default=2, metadata=_rng(0, 1000))
    max_grad_norm: float = field(default=10.0, metadata=_rng(1e-3, 1e9))
    divergence_norm: float = field(default=1e4, metadata=_rng(1.0, 1e12))
    max_steps_per_s: float = field(default=0.0, metadata=_rng(0.0, 1000.0))
    checkpoint_every_s: float = field(default=30.0, metadata=_rng(1.0, 86_400.0))
    publish_every_s: float = field(default=2.0, metadata=_rng(0.1, 3600.0))
    imu_stats_windows: int = field(default=240, metadata=_rng(1, 100_000))
    torch_threads: int = field(default=1, metadata=_rng(1, 64))

    def recipe(self) -> Recipe:
        """The shared step's :class:`~comodo_live.training.core.Recipe` for these settings."""
        from comodo_live.training.core import Recipe  # torch-free config module: lazy import

        return Recipe(
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_fraction=self.warmup_fraction,
            queue_size=self.queue_size,
            tau_t=self.tau_t,
            tau_s=self.tau_s,
            augment=self.augment,
            ema_decay=self.ema_decay,
            max_grad_norm=self.max_grad_norm,
            divergence_norm=self.divergence_norm,
            replay_ratio=self.replay_ratio,
            round_min_pairs=self.min_pairs,
            round_growth=self.round_growth,
            round_max_pairs=max(self.round_max_pairs, self.min_pairs),
        )


@dataclass(frozen=True)
class PredictorConfig:
    """IMU-only prediction.

    Attributes:
        confidence_threshold: absolute floor of the "unknown" rule: a smoothed top probability
            below max(confidence_threshold, 1/K + unknown_margin × (1 - 1/K)) for K activities
            is shown as "unknown", [0, 1].
        unknown_margin: the "unknown" rule relative to chance: the fraction of the way from
            chance 1/K to certainty 1 the smoothed top probability must reach, [0, 1) (0.3: 0.65
            for K = 2, 0.44 for K = 5, 0.33 for K = 27); chosen on the validation folds.
        smoothing_alpha: weight of the newest probabilities in the exponential smoothing, (0, 1].
        min_windows_per_activity: labelled windows an activity needs for the linear head;
            fewer → prototype-anchor fallback.
        max_windows_per_activity: labelled windows kept per activity (oldest dropped).
        refit_every_s: refit the classifier on a fresh EMA snapshot this often, seconds.
        anchor_temperature: temperature of the cosine prototype fallback and teacher anchors.
        classifier_c: inverse L2 regularisation of the logistic regression.
        history: recent predictions kept for the GUI timeline.
        personalise_steps: optimiser steps of "Personalise" (fine-tuning the student on the
            labelled windows, the supervised recipe; Controller.start_personalise).
        text_anchors: the teacher's own prediction (camera on) uses zero-shot text anchors, one
            prompt per activity name, instead of teacher-space anchors; needs teacher.name =
            "xclip" (comodo_live/learning/text_anchors.py).
    """

    confidence_threshold: float = field(default=0.0, metadata=_rng(0.0, 1.0))
    unknown_margin: float = field(default=0.3, metadata=_rng(0.0, 0.99))
    smoothing_alpha: float = field(default=0.5, metadata=_rng(0.01, 1.0))
    min_windows_per_activity: int = field(default=4, metadata=_rng(1, 100_000))
    max_windows_per_activity: int = field(default=120, metadata=_rng(1, 100_000))
    refit_every_s: float = field(default=15.0, metadata=_rng(0.5, 3600.0))
    anchor_temperature: float = field(default=0.1, metadata=_rng(1e-3, 10.0))
    classifier_c: float = field(default=1.0, metadata=_rng(1e-6, 1e6))
    history: int = field(default=240, metadata=_rng(1, 100_000))
    personalise_steps: int = field(default=200, metadata=_rng(1, 100_000))
    text_anchors: bool = False


@dataclass(frozen=True)
class SessionConfig:
    """Session folder, recording and resume.

    Attributes:
        root: folder that holds session folders.
        name: session name (folder ``<root>/<YYYYmmdd-HHMMSS>-<name>``).
        record: record XDF (+ video) from the start.
        resume: "" (fresh), "latest" (newest session under ``root`` with a checkpoint), a
            session folder / checkpoint file to resume learning from, or an exported model
            package folder (has ``manifest.json``) to continue personalising.
        metrics_every_s: seconds between metrics-log lines.
        resolve_timeout_s: how long to wait for the LSL streams at start, seconds.
        marker_source_ids: extra marker streams to follow (other lab software), each a
            ``source_id`` or ``"type=Markers,name=X"`` (name / type / hostname): their
            ``label:start:<name>`` / ``label:stop`` markers label windows like the demo's and a
            replay's markers. Optional: one that is not on LSL at start joins the running
            session (and its recording) when it appears.
        participant, session, task, run: optional BIDS-style naming (letters and digits; run
            a number). With ``participant`` set, the session folder is
            ``<root>/sub-<participant>/ses-<session>/sub-<p>_ses-<s>_task-<task>_run-<run>/``
            (LabRecorder's BIDS template; ``ses-`` left out when ``session`` is empty, ``task``
            defaults to ``name``, ``run`` to the next free number).
        report: write ``report.html`` into the session folder when the session stops.
        keep_video_data: what video-derived data the session folder keeps once the session
            stops: "all" (video file + teacher embeddings in the checkpoint), "embeddings" (the
            video file is deleted) or "none" (video deleted, teacher embeddings, replay pairs and
            queue stripped from the final checkpoint; student, labels and IMU data stay).
    """

    root: str = "recordings"
    name: str = "session"
    record: bool = True
    resume: str = ""
    metrics_every_s: float = field(default=1.0, metadata=_rng(0.05, 3600.0))
    resolve_timeout_s: float = field(default=10.0, metadata=_rng(0.1, 600.0))
    marker_source_ids: tuple[str, ...] = ()
    participant: str = ""
    session: str = ""
    task: str = ""
    run: str = ""
    report: bool = True
    keep_video_data: str = field(
        default="all", metadata=_rng(choices=("all", "embeddings", "none"))
    )


@dataclass(frozen=True)
class AppConfig:
    """The whole configuration tree."""

    source: SourceConfig = field(default_factory=SourceConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    imu: ImuConfig = field(default_factory=ImuConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    session: SessionConfig = field(default_factory=SessionConfig)

    def __post_init__(self) -> None:
        validate(self)

    def replace(self, overrides: dict[str, Any]) -> AppConfig:
        """A copy with ``{"section.key": value}`` overrides applied (validated)."""
        tree = as_dict(self)
        for dotted, value in overrides.items():
            section, key = _split_key(dotted)
            tree.setdefault(section, {})[key] = value
        return from_dict(tree)


def _split_key(dotted: str) -> tuple[str, str]:
    parts = dotted.split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"override key must look like 'section.key', got {dotted!r}")
    return parts[0], parts[1]


_SECTIONS: tuple[str, ...] = (
    "source",
    "window",
    "camera",
    "imu",
    "audio",
    "demo",
    "teacher",
    "student",
    "trainer",
    "predictor",
    "session",
)


def _section_fields(section: str) -> dict[str, dataclasses.Field[Any]]:
    cls = _section_class(section)
    return {f.name: f for f in dataclasses.fields(cls)}


def _section_class(section: str) -> type:
    hints = typing.get_type_hints(AppConfig)
    if section not in _SECTIONS:
        raise ConfigError(f"unknown config section {section!r}; valid sections: {list(_SECTIONS)}")
    return typing.cast(type, hints[section])


def _check_range(key: str, value: Any, meta: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        valid = f"; valid range: [{meta['range'][0]}, {meta['range'][1]}]" if meta else ""
        raise ConfigError(f"{key} = {value!r} is not a finite number{valid}")
    if not meta:
        return
    lo, hi = meta["range"]
    choices = meta["choices"]
    if choices and value not in choices:
        raise ConfigError(f"{key} = {value!r} is invalid; valid values: {list(choices)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{key} = {value!r} is out of range; valid range: [{lo}, {hi}]")


def validate(config: AppConfig) -> None:
    """Check every value's range and the cross-field rules.

    Raises:
        ConfigError: naming the key, the value and the valid range.
    """
    for section in _SECTIONS:
        values = getattr(config, section)
        for name, fld in _section_fields(section).items():
            _check_range(f"{section}.{name}", getattr(values, name), fld.metadata)
    win = config.window
    if win.hop_s > win.window_s:
        raise ConfigError(
            f"window.hop_s = {win.hop_s} is out of range; valid range: (0, window.window_s = {win.window_s}]"
        )
    if win.samples < 8:
        raise ConfigError(
            f"window.window_s * window.rate_hz = {win.samples} samples; need >= 8 samples per window"
        )
    acts = config.demo.activities
    if len(set(acts)) < 2 or any(not a.strip() for a in acts):
        raise ConfigError(f"demo.activities = {list(acts)!r}; need >= 2 distinct non-empty names")
    tr = config.trainer
    if tr.min_pairs > tr.replay_size:
        raise ConfigError(
            f"trainer.min_pairs = {tr.min_pairs} is out of range; valid range: [2, trainer.replay_size = {tr.replay_size}]"
        )
    if config.student.kernel_size % 2 == 0:
        raise ConfigError(f"student.kernel_size = {config.student.kernel_size}; must be odd")
    pr = config.predictor
    if pr.min_windows_per_activity > pr.max_windows_per_activity:
        raise ConfigError(
            f"predictor.min_windows_per_activity = {pr.min_windows_per_activity} is out of range; "
            f"valid range: [1, predictor.max_windows_per_activity = {pr.max_windows_per_activity}]"
        )
    if config.teacher.frames % config.teacher.segments:
        raise ConfigError(
            f"teacher.frames = {config.teacher.frames} must be a multiple of "
            f"teacher.segments = {config.teacher.segments}"
        )
    if config.source.mode == "replay" and not config.source.replay_path:
        raise ConfigError(
            "source.replay_path = '' is invalid with source.mode = 'replay'; give an XDF file"
        )
    if pr.text_anchors and config.teacher.name != "xclip":
        raise ConfigError(
            f"predictor.text_anchors = true is invalid with teacher.name = "
            f"{config.teacher.name!r}; valid: teacher.name = 'xclip' (or text_anchors = false)"
        )
    if config.imu.source.startswith("lsl:") and not config.imu.source[4:].strip():
        raise ConfigError(
            "imu.source = 'lsl:' is invalid; give the stream's source_id, e.g. 'lsl:my-imu'"
        )
    _validate_streams_and_naming(config)
    if not config.teacher.name.strip():
        raise ConfigError(
            "teacher.name = '' is invalid; give a teacher name, e.g. 'efficientnet-lite0'"
        )


def _validate_streams_and_naming(config: AppConfig) -> None:
    from comodo_live.streams.spec import parse_stream_spec  # pure Python, no LSL

    specs = [("session.marker_source_ids", s) for s in config.session.marker_source_ids]
    if config.imu.source.startswith("lsl:"):
        specs += [("imu.source", part) for part in config.imu.source[4:].split("+")]
    for key, text in specs:
        try:
            parse_stream_spec(text, key)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    ses = config.session
    for key in ("participant", "session", "task", "run"):
        value = getattr(ses, key)
        if value and not (value.isascii() and value.isalnum()):
            raise ConfigError(
                f"session.{key} = {value!r} is invalid; BIDS labels are letters and digits only"
            )
    if ses.run and not ses.run.isdigit():
        raise ConfigError(f"session.run = {ses.run!r} is invalid; expected a number, e.g. '1'")
    if not ses.participant and (ses.session or ses.task or ses.run):
        raise ConfigError(
            "session.participant = '' is invalid with session.session / task / run set; "
            "give a participant label for BIDS naming, or clear the others"
        )


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """Convert a TOML/CLI value to the field's declared type, or raise ConfigError."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(f"{key} = {value!r} is invalid; valid values: true or false")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{key} = {value!r} is invalid; expected an integer")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} = {value!r} is invalid; expected a number")
        return float(value)
    if kind is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} is invalid; expected a string")
        return str(value)
    if typing.get_origin(kind) is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} = {value!r} is invalid; expected a list of strings")
        return tuple(value)
    raise ConfigError(f"{key}: unsupported field type {kind!r}")


def from_dict(tree: dict[str, Any]) -> AppConfig:
    """Build a validated :class:`AppConfig` from ``{section: {key: value}}`` (missing = default).

    Raises:
        ConfigError: unknown section or key, wrong type, or out-of-range value.
    """
    sections: dict[str, Any] = {}
    for section, values in tree.items():
        cls = _section_class(section)
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table of keys, got {values!r}")
        if section == "trainer" and "hold_out_labelled" in values:  # sessions of Nov 2026
            values = dict(values)
            legacy = values.pop("hold_out_labelled")
            values.setdefault("hold_out_every", 1 if legacy else 0)
        fields = _section_fields(section)
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for key, value in values.items():
            if key not in fields:
                raise ConfigError(
                    f"unknown config key {section}.{key}; valid keys in [{section}]: {sorted(fields)}"
                )
            kwargs[key] = _coerce(f"{section}.{key}", value, hints[key])
        sections[section] = cls(**kwargs)
    return AppConfig(**sections)


def as_dict(config: AppConfig) -> dict[str, dict[str, Any]]:
    """``{section: {key: value}}`` with plain TOML-able values (tuples as lists)."""
    tree: dict[str, dict[str, Any]] = {}
    for section in _SECTIONS:
        values = getattr(config, section)
        tree[section] = {
            f.name: list(v) if isinstance(v := getattr(values, f.name), tuple) else v
            for f in dataclasses.fields(values)
        }
    return tree


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):  # JSON string escapes are TOML basic-string escapes
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to TOML")


def dump_toml(config: AppConfig) -> str:
    """The config as TOML text that :func:`load_config` reads back to an equal config."""
    lines: list[str] = []
    for section, values in as_dict(config).items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


def parse_override(text: str) -> tuple[str, Any]:
    """``"section.key=value"`` → ``("section.key", value)``; value read as a TOML literal if it
    parses as one (``2``, ``0.5``, ``true``, ``["a", "b"]``), else kept as a string."""
    if "=" not in text:
        raise ConfigError(f"override must look like 'section.key=value', got {text!r}")
    key, raw = (part.strip() for part in text.split("=", 1))
    _split_key(key)
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def load_config(
    path: str | Path | None = None, overrides: typing.Iterable[str] | dict[str, Any] = ()
) -> AppConfig:
    """Defaults ← TOML file ``path`` ← ``overrides`` (``"section.key=value"`` strings or a dict).

    Raises:
        ConfigError: unreadable file, unknown key, or invalid value.
    """
    tree: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                tree = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {str(path)!r} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"config file {str(path)!r} is not valid TOML: not UTF-8 text (a binary file?)"
            ) from exc
        except OSError as exc:  # a folder, no permission, ...
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(f"config file {str(path)!r} cannot be read: {reason}") from exc
    pairs = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
    for dotted, value in pairs:
        section, key = _split_key(dotted)
        table = tree.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table of keys, got {table!r}")
        table[key] = value
    return from_dict(tree)


__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AppConfig",
    "CameraConfig",
    "ConfigError",
    "DemoConfig",
    "ImuConfig",
    "PredictorConfig",
    "SessionConfig",
    "SourceConfig",
    "StudentConfig",
    "TeacherConfig",
    "TrainerConfig",
    "WindowConfig",
    "as_dict",
    "dump_toml",
    "from_dict",
    "load_config",
    "parse_override",
    "validate",
]
