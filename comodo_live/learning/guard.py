"""Never serve a worse student: the distilled student vs the starting one, on the user's labels.

The user's labelled windows come in stretches (one ``label:start`` … ``label:stop``, or one
labelled trial); neighbouring windows of a stretch overlap, so they must never sit on both sides
of a split. :func:`compare_students` runs grouped cross-validation by stretch: for each fold the
app's classifier (:func:`~comodo_live.head.fit_head`) is fitted on the other stretches' embeddings
of one encoder and scored on the held-out stretches; both encoders see the same folds. The gain
is the current student's accuracy minus the starting student's, in points; its noise is the
standard error of the per-stretch differences (stretches are the independent units).

Only stretches the student never trained on are scored (:func:`held_out`: every k-th labelled
stretch makes no distillation pair, ``trainer.hold_out_every``); the classifier of each fold is
fitted on all other stretches, as the app's classifier is. Scoring windows the student was
distilled on is biased: on the UTD-MHAD session the guard scored the distilled student 7.6 points
below the starting one there while it was 5.4 points better on new subjects.

:class:`StudentGuard` keeps the verdict: serve (and export) the distilled student unless it is
significantly behind the starting one (one-sided 95 %: ``gain < -max(1.645 × noise, min_margin)``);
then roll back to the starting student until the distilled one catches up again. A margin of one
standard error rolled back ~16 % of equally good students on noise alone: with one labelled trial
per activity the per-stretch standard error is a few points, as large as the gain to keep.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from comodo_live.head import fit_head
from comodo_live.models.student import ImuStudent

MAX_FOLDS = 3  # folds of the grouped cross-validation (each costs two classifier fits)
MIN_GROUPS = 2  # stretches needed for a cross-validated figure
ROLLBACK_Z = 1.645  # one-sided 95 %: roll back only when significantly behind
ENCODE_BATCH = 256
HISTORY = 1000  # verdicts the guard remembers (one per rerun, at most one a minute live)


@dataclass(frozen=True)
class GuardVerdict:
    """One comparison of the distilled (current) student with the starting one.

    Attributes:
        gain_points: current minus starting accuracy on the labelled windows, percentage points
            (None without enough labels: fewer than 2 stretches or 2 activities).
        noise_points: standard error of that gain over stretches, points (None as above).
        current_accuracy: cross-validated accuracy of the current student, [0, 1] (or None).
        start_accuracy: the same for the starting student (or None).
        windows: labelled windows scored (those of held-out stretches).
        stretches: scored stretches (independent units of the cross-validation).
        serving: ``"distilled"`` or ``"starting"`` (rolled back).
        labelled: all labelled windows, scored or not (those in stretches the student trains on
            included), so the summary can tell "no labels" from "no held-out labels yet".
    """

    gain_points: float | None
    noise_points: float | None
    current_accuracy: float | None
    start_accuracy: float | None
    windows: int
    stretches: int
    serving: str = "distilled"
    labelled: int = 0

    @property
    def rolled_back(self) -> bool:
        return self.serving == "starting"

    def summary(self) -> str:
        """``"distillation gain on your labels: +x points (n windows)"``, or why there is no
        figure yet: no labels at all, no held-out stretch yet, or too few held-out stretches."""
        if self.gain_points is None:
            head = "distillation gain on your labels: "
            if self.windows == 0 and self.labelled == 0:
                return head + "no labels yet"
            if self.windows == 0:
                return head + (
                    f"not measured yet ({self.labelled} labelled windows all train the student;"
                    " label an activity a second time to test on it)"
                )
            return head + (
                f"not measured yet ({self.windows} held-out windows in {self.stretches} stretch"
                f"{'es' if self.stretches != 1 else ''}; need 2 stretches of 2 activities)"
            )
        text = (
            f"distillation gain on your labels: {self.gain_points:+.1f} points "
            f"({self.windows} windows)"
        )
        return text + (" — rolled back to the starting student" if self.rolled_back else "")

    def as_dict(self) -> dict[str, object]:
        return {
            "gain_points": self.gain_points,
            "noise_points": self.noise_points,
            "current_accuracy": self.current_accuracy,
            "start_accuracy": self.start_accuracy,
            "windows": self.windows,
            "stretches": self.stretches,
            "serving": self.serving,
            "labelled": self.labelled,
            "summary": self.summary(),
        }


NO_LABELS = GuardVerdict(None, None, None, None, 0, 0)


@torch.inference_mode()
def _encode(encoder: ImuStudent, windows: np.ndarray) -> np.ndarray:
    """(M, C, N) → (M, E) float32."""
    encoder.eval()
    out = [
        encoder.encode(torch.from_numpy(np.ascontiguousarray(windows[i : i + ENCODE_BATCH])))
        .float()
        .numpy()
        for i in range(0, windows.shape[0], ENCODE_BATCH)
    ]
    return np.concatenate(out)


def held_out(ordinal: int, every: int) -> bool:
    """Whether a labelled stretch, the ``ordinal``-th (0-based) of its activity, is kept out of
    distillation for ``trainer.hold_out_every`` = ``every`` (0: none; 1: all; k: the 2nd,
    (k+1)-th, … of each activity, so an activity labelled once still trains)."""
    return every > 0 and (ordinal + every - 1) % every == 0


def group_folds(groups: np.ndarray, folds: int, names: Sequence[str]) -> np.ndarray:
    """(M,) fold index per window: whole stretches per fold; each activity's stretches, in
    labelling order (stretch ids grow with time), are cut into ``folds`` contiguous runs, so
    fold k holds the k-th period of every activity's labels and each test stretch is judged
    by a classifier that learnt the activity from its other periods.

    Measured on UTD-MHAD's 4-person session (untrained student, 3 folds): 62 % (this rule),
    65 % leave-one-person-out, 42 % with stretches dealt round-robin (the classifier learnt from
    the same person's other activities), 0 % with contiguous periods of the whole session (the
    activities were recorded one after another, so a fold held all of an activity's labels).
    """
    groups = np.asarray(groups)
    _, first = np.unique(groups, return_index=True)  # ids ascending = labelling order
    fold_of: dict[int, int] = {}
    by_activity: dict[str, list[int]] = {}
    for g, i in zip(groups[first], first, strict=True):
        by_activity.setdefault(names[int(i)], []).append(int(g))
    for ids in by_activity.values():
        for rank, g in enumerate(ids):
            fold_of[g] = min(folds - 1, rank * folds // len(ids))
    return np.asarray([fold_of[int(g)] for g in groups], np.int64)


def cv_correct(
    embeddings: np.ndarray,
    names: Sequence[str],
    folds: np.ndarray,
    activities: tuple[str, ...],
    min_windows: int,
    c: float,
    anchor_temperature: float,
) -> np.ndarray:
    """(M,) bool: each window classified correctly by the head fitted without its fold."""
    labels = np.asarray(names)
    correct = np.zeros(labels.size, bool)
    for k in np.unique(folds):
        test = folds == k
        train = ~test
        if not train.any():
            continue
        head = fit_head(
            embeddings[train],
            list(labels[train]),
            activities,
            min_windows,
            c,
            anchor_temperature,
        )
        if head is None:
            continue
        predicted = np.asarray(head.activities)[head.probabilities(embeddings[test]).argmax(1)]
        correct[test] = predicted == labels[test]
    return correct


def compare_students(
    current: ImuStudent,
    start: ImuStudent,
    windows: np.ndarray,
    names: Sequence[str],
    groups: np.ndarray,
    activities: tuple[str, ...],
    min_windows: int = 4,
    c: float = 1.0,
    anchor_temperature: float = 0.1,
    start_embeddings: np.ndarray | None = None,
    scored: np.ndarray | None = None,
) -> GuardVerdict:
    """Grouped cross-validated accuracy of both students with the app's classifier.

    Args:
        current: the distilled (EMA) student.
        start: the starting student (same input normalisation as ``current``).
        windows: (M, C, N) labelled windows.
        names: M activity names.
        groups: (M,) stretch id of each window.
        activities: the session's activities.
        min_windows, c, anchor_temperature: the classifier's settings (``[predictor]``).
        start_embeddings: (M, E) embeddings of ``windows`` by ``start`` if already computed.
        scored: (M,) bool, the windows to score (held-out stretches; the classifier of each fold
            is fitted on every other window); None scores all.

    Returns:
        The verdict (``serving`` left at ``"distilled"``; :class:`StudentGuard` decides).
    """
    groups = np.asarray(groups)
    m = len(names)
    if windows.shape[0] != m or groups.shape != (m,):
        raise ValueError(
            f"windows ({windows.shape[0]}), names ({m}) and groups {groups.shape} must match"
        )
    scored = np.ones(m, bool) if scored is None else np.asarray(scored, bool)
    if scored.shape != (m,):
        raise ValueError(f"scored {scored.shape} must match the {m} windows")
    n_groups = int(np.unique(groups[scored]).size) if scored.any() else 0
    n_scored = int(scored.sum())
    if n_groups < MIN_GROUPS or len(set(names)) < 2:
        return GuardVerdict(None, None, None, None, n_scored, n_groups, labelled=m)
    folds = group_folds(groups, MAX_FOLDS, names)
    settings = (activities, min_windows, c, anchor_temperature)
    e_start = start_embeddings if start_embeddings is not None else _encode(start, windows)
    ok_current = cv_correct(_encode(current, windows), names, folds, *settings)
    ok_start = cv_correct(e_start, names, folds, *settings)
    ok_current, ok_start, kept = ok_current[scored], ok_start[scored], groups[scored]
    diff = ok_current.astype(np.float64) - ok_start.astype(np.float64)  # (S,) scored windows
    per_group = np.asarray([diff[kept == g].mean() for g in np.unique(kept)])
    noise = float(per_group.std(ddof=1) / math.sqrt(per_group.size)) * 100.0
    return GuardVerdict(
        gain_points=float(diff.mean() * 100.0),
        noise_points=noise,
        current_accuracy=float(ok_current.mean()),
        start_accuracy=float(ok_start.mean()),
        windows=n_scored,
        stretches=n_groups,
        labelled=m,
    )


class StudentGuard:
    """Decides which student to serve from successive verdicts.

    Args:
        min_margin_points: the distilled student is rolled back only when it trails by more than
            max(ROLLBACK_Z × noise, this), percentage points.
    """

    def __init__(self, min_margin_points: float = 1.0) -> None:
        if min_margin_points < 0:
            raise ValueError(f"min_margin_points must be >= 0, got {min_margin_points}")
        self.min_margin_points = float(min_margin_points)
        self.verdict: GuardVerdict = NO_LABELS
        self.rollbacks = 0
        # (trainer step of the judged snapshot, verdict) of each decision, oldest first
        self.history: deque[tuple[int | None, GuardVerdict]] = deque(maxlen=HISTORY)

    def margin(self, noise_points: float) -> float:
        """How far (points) the distilled student may trail before it is rolled back."""
        return max(ROLLBACK_Z * noise_points, self.min_margin_points)

    def decide(self, verdict: GuardVerdict, step: int | None = None) -> GuardVerdict:
        """Record ``verdict`` (of the snapshot at trainer step ``step``) with its serving
        decision in :attr:`verdict` and :attr:`history`; returns it."""
        serving = "distilled"
        gain, noise = verdict.gain_points, verdict.noise_points
        if gain is not None and noise is not None and gain < -self.margin(noise):
            serving = "starting"
        if serving == "starting" and not self.verdict.rolled_back:
            self.rollbacks += 1
        self.verdict = replace(verdict, serving=serving)
        self.history.append((step, self.verdict))
        return self.verdict
