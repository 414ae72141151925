"""The predictor worker: IMU-only activity prediction on the newest window, camera on or off.

It owns a private copy of the EMA student (swapped in, together with the classifier fitted on
it, by the :class:`~comodo_live.learning.refit.ClassifierWorker`), so it never waits behind the
trainer: the only hand-offs are two one-slot deques. Latency is measured from the local time
the window's last sample was received to the prediction being available.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pylsl
import torch

from comodo_live.config import PredictorConfig
from comodo_live.head import HeadSpec, Smoother
from comodo_live.models.student import ImuStudent
from comodo_live.records import ImuWindow, Prediction
from comodo_live.worker import Worker


@dataclass(frozen=True)
class PredictorModel:
    """An encoder (private EMA-student copy) and the head fitted on its embeddings (or None)."""

    encoder: ImuStudent
    head: HeadSpec | None
    serial: int


PredictionSink = Callable[[Prediction, ImuWindow], None]


class PredictorWorker(Worker):
    """Predicts every submitted window (stale ones skipped and counted).

    Args:
        config: predictor settings (smoothing, unknown threshold).
        sink: called in this thread with each prediction and its window.
    """

    def __init__(self, config: PredictorConfig, sink: PredictionSink) -> None:
        super().__init__("comodo-predictor")
        self.config = config
        self._sink = sink
        self._windows: deque[ImuWindow] = deque(maxlen=1)
        self._models: deque[PredictorModel] = deque(maxlen=1)
        self._wake = threading.Event()
        self._model: PredictorModel | None = None
        self._smoother = Smoother(
            config.smoothing_alpha, config.confidence_threshold, config.unknown_margin
        )
        self.skipped = 0
        self.invalid = 0
        self.predicted = 0
        self.latencies_ms: deque[float] = deque(maxlen=4096)

    @property
    def model(self) -> PredictorModel | None:
        return self._model

    def submit(self, window: ImuWindow) -> None:
        """Offer the newest window; a still-pending older one is dropped (counted in skipped)."""
        if self._windows:
            self.skipped += 1
        self._windows.append(window)
        self._wake.set()

    def set_model(self, model: PredictorModel) -> None:
        """Hand over a new encoder + head; used from the next window on."""
        self._models.append(model)
        self._wake.set()

    def latency_p95_ms(self) -> float:
        values = list(self.latencies_ms)
        return float(np.percentile(values, 95)) if values else float("nan")

    def _loop(self) -> None:
        while not self._stop_event.is_set():
            if not self._wake.wait(0.1):
                continue
            self._wake.clear()
            if self._models:
                self._model = self._models.popleft()
            try:
                window = self._windows.popleft()
            except IndexError:
                continue
            prediction = self.predict(window)
            if prediction is not None:
                self._sink(prediction, window)

    def predict(self, window: ImuWindow) -> Prediction | None:
        """Smoothed prediction for one window (None if the window is not finite or no model)."""
        model = self._model
        if model is None:
            return None
        data = window.data
        if (
            data.ndim != 2
            or data.shape[0] != model.encoder.in_channels
            or not np.isfinite(data).all()
        ):
            self.invalid += 1
            return None
        probabilities: dict[str, float] = {}
        if model.head is not None:
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))[
                    None
                ]  # (1, C, N)
                embedding = model.encoder.encode(x).numpy()  # (1, E)
            probs = model.head.probabilities(embedding)[0]  # (K,)
            probabilities = dict(zip(model.head.activities, map(float, probs), strict=True))
        received = window.t_last_push if window.t_last_push > 0 else window.t_end
        latency_ms = (pylsl.local_clock() - received) * 1000.0
        self.latencies_ms.append(latency_ms)
        self.predicted += 1
        return self._smoother(probabilities, window.t_end, "student", latency_ms)
