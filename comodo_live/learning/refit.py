"""The classifier worker: refits the predictor's head off the hot path.

When labels change (at most once per ``MIN_REFIT_S``) or every ``refit_every_s`` on a fresh EMA
snapshot from the trainer, it encodes all labelled windows with that snapshot, fits the
:func:`~comodo_live.head.fit_head` classifier and hands (encoder, head) to the
predictor as one unit, so embeddings and head always match.

It also runs the "never serve a worse student" guard (:mod:`comodo_live.learning.guard`): on the
user's labelled windows, grouped cross-validation by labelled stretch compares the distilled
(EMA) student with the starting student (the first snapshot of the run, or the weights last
installed by Personalise, with the same input normalisation); the worse one is not served
(and :attr:`ClassifierWorker.served` is what a checkpoint exports).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch

from comodo_live.config import PredictorConfig
from comodo_live.head import HeadSpec, fit_head
from comodo_live.learning.guard import NO_LABELS, StudentGuard, compare_students, held_out
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.predictor import PredictorModel
from comodo_live.learning.trainer import EncoderSnapshot
from comodo_live.models.student import ImuStudent
from comodo_live.worker import Worker

MIN_REFIT_S = 3.0  # while labelling, windows arrive every hop: refit at most this often (each
# refit is a logistic regression over all labelled windows, CPU the trainer needs)
GUARD_MIN_S = 60.0  # the guard reruns (new snapshot or new labels) at most this often, s (each
# run: 2 encodings + 2 x 3 classifier fits)
ENCODE_BATCH = 256


@torch.inference_mode()
def encode_windows(encoder: ImuStudent, windows: np.ndarray) -> np.ndarray:
    """(M, C, N) windows → (M, E) float32 embeddings, in batches."""
    out = [
        encoder.encode(
            torch.from_numpy(np.ascontiguousarray(windows[i : i + ENCODE_BATCH]))
        ).numpy()
        for i in range(0, windows.shape[0], ENCODE_BATCH)
    ]
    return np.concatenate(out).astype(np.float32)


class ClassifierWorker(Worker):
    """Keeps the predictor's (encoder, head) current.

    Args:
        config: predictor settings (refit period, fallback rule, regularisation).
        labels: the label store.
        snapshots: returns the newest unclaimed EMA snapshot (or None).
        publish: receives each new (encoder, head).
        hold_out_every: ``trainer.hold_out_every``: which labelled stretches the guard scores.
    """

    def __init__(
        self,
        config: PredictorConfig,
        labels: LabelStore,
        snapshots: Callable[[], EncoderSnapshot | None],
        publish: Callable[[PredictorModel], None],
        hold_out_every: int = 1,
    ) -> None:
        super().__init__("comodo-classifier")
        self.hold_out_every = int(hold_out_every)
        self.config = config
        self.labels = labels
        self._snapshots = snapshots
        self._publish = publish
        self._pending: EncoderSnapshot | None = None
        self._current: EncoderSnapshot | None = None
        self._fitted_version = -1
        self._last_fit = -np.inf
        self.head: HeadSpec | None = None
        self.seed_head: HeadSpec | None = None  # an imported package's head (learning/seed.py)
        self.fits = 0
        self.last_fit_ms = 0.0
        self.labelled_accuracy: float | None = None
        self.guard = StudentGuard()
        self.start_student: ImuStudent | None = None  # the starting student of this run
        self.served: ImuStudent | None = None  # the student the predictor uses now
        self._guard_key: tuple[int, int] | None = None  # (snapshot serial, labels version)
        self._guard_time = -np.inf

    def refit_now(self, rerun_guard: bool = True) -> None:
        """Refit from the newest snapshot at once (blocking; used at start, by fast replay and by
        tests).

        Args:
            rerun_guard: rerun the guard's cross-validation now; False keeps its usual period
                (``GUARD_MIN_S`` since the last run, on the clock of ``_guard_time``).
        """
        snap = self._snapshots()
        if snap is not None:
            self._pending = snap
        if rerun_guard:
            self._guard_key = None
        self._refit()

    def _loop(self) -> None:
        while not self._stop_event.is_set():
            snap = self._snapshots()
            if snap is not None:
                self._pending = snap
            now = time.monotonic()
            labels_changed = self.labels.version != self._fitted_version
            fresh_model = self._pending is not None and (
                self._current is None
                or now - self._last_fit >= self.config.refit_every_s
                or snap_urgent(self._pending, self._current)
            )
            if (labels_changed and now - self._last_fit >= MIN_REFIT_S) or fresh_model:
                self._refit()
            self._stop_event.wait(0.1)

    def _refit(self) -> None:
        if self._pending is not None:
            self._current, self._pending = self._pending, None
        snap = self._current
        if snap is None:
            return
        t0 = time.monotonic()
        version = self.labels.version
        served = self._guarded(snap, version)
        windows, names = self.labels.windows()
        head = None
        if names:
            embeddings = encode_windows(served, windows)
            head = fit_head(
                embeddings,
                names,
                self.labels.activities,
                self.config.min_windows_per_activity,
                self.config.classifier_c,
                self.config.anchor_temperature,
                version,
            )
            if head is not None:
                predicted = np.asarray(head.activities)[
                    head.probabilities(embeddings).argmax(axis=1)
                ]
                self.labelled_accuracy = float(np.mean(predicted == np.asarray(names)))
        seeded = self.seed_head
        if head is None and seeded is not None and seeded.activities == self.labels.activities:
            head = seeded  # no labelled windows of this session yet: the package's classifier
        self.head = head
        self._fitted_version = version
        self._last_fit = time.monotonic()
        self.last_fit_ms = (self._last_fit - t0) * 1000.0
        self.fits += 1
        self.served = served
        self._publish(PredictorModel(served, head, snap.serial))

    def _held_out_mask(self, groups: np.ndarray) -> np.ndarray:
        """(M,) bool: the windows of stretches kept out of distillation (one lookup per stretch)."""
        ids, inverse = np.unique(groups, return_inverse=True)
        kept = np.asarray([held_out(self.labels.ordinal(int(g)), self.hold_out_every) for g in ids])
        return kept.astype(bool)[inverse.reshape(-1)]

    def _guarded(self, snap: EncoderSnapshot, version: int) -> ImuStudent:
        """The student to serve: the distilled snapshot unless the guard rolled it back."""
        if self.start_student is None or snap.urgent:
            self.start_student = copy.deepcopy(snap.model).eval()
            self.guard.verdict = NO_LABELS
        start = self.start_student
        if not (
            torch.equal(start.channel_mean, snap.model.channel_mean)
            and torch.equal(start.channel_std, snap.model.channel_std)
        ):  # the normalisation was fixed after the start: compare like with like
            start.set_channel_stats(snap.model.channel_mean, snap.model.channel_std)
            self._guard_key = None
        key = (snap.serial, version)
        now = time.monotonic()
        due = self._guard_key is None or (
            key != self._guard_key and now - self._guard_time >= GUARD_MIN_S
        )
        if due:
            windows, names, groups = self.labels.windows_by_stretch()
            verdict = compare_students(
                snap.model,
                start,
                windows,
                names,
                groups,
                self.labels.activities,
                self.config.min_windows_per_activity,
                self.config.classifier_c,
                self.config.anchor_temperature,
                scored=self._held_out_mask(groups) if self.hold_out_every > 0 else None,
            )
            self.guard.decide(verdict, snap.step)
            self._guard_key, self._guard_time = key, now
        return start if self.guard.verdict.rolled_back else snap.model


def snap_urgent(new: EncoderSnapshot, current: EncoderSnapshot | None) -> bool:
    """A snapshot whose input normalisation changed (or marked urgent: new weights installed)
    must replace the current one at once."""
    if current is None or new.urgent:
        return True
    return not torch.equal(new.model.channel_std, current.model.channel_std)
