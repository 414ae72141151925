"""Zero-shot text anchors: the X-CLIP teacher's own prediction from activity names.

With ``predictor.text_anchors = true`` (teacher ``"xclip"``), the teacher's prediction while the
camera is on does not need labelled windows: each activity name becomes a prompt
(``"a video of a person {name}"``), embedded once with the teacher's text tower
(:meth:`~comodo_live.models.teachers.hf.XClipTeacher.embed_text`). A clip's raw teacher
features — X-CLIP's ``get_video_features`` pooled output, the same joint space as the text
features, NOT the frozen random projection the student learns — are compared to the anchors by
cosine similarity; ``softmax(cos / temperature)`` gives probabilities over activities.

Anchors are recomputed whenever the activity names change (add, rename, delete).

Note: X-CLIP's full forward also adds a video-conditioned prompt to the text embeddings; the
anchors here are the plain, video-independent text embeddings (so they are computed once per
activity list, not per clip).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from comodo_live.head import Smoother, softmax
from comodo_live.records import Prediction

DEFAULT_PROMPT = "a video of a person {name}"
DEFAULT_TEMPERATURE = 0.01  # CLIP's usual learned logit scale of 100


def model_temperature(teacher: Any) -> float:
    """1 / exp(logit_scale) of the teacher's model, else :data:`DEFAULT_TEMPERATURE`."""
    scale = getattr(getattr(teacher, "model", None), "logit_scale", None)
    if scale is None:
        return DEFAULT_TEMPERATURE
    value = math.exp(float(scale.detach().reshape(-1)[0]))
    return 1.0 / value if math.isfinite(value) and value > 0 else DEFAULT_TEMPERATURE


class TextAnchors:
    """Text anchors of the current activities and the teacher's zero-shot prediction.

    Args:
        teacher: a teacher with ``embed_text(list[str]) -> (N, P)`` whose ``embed`` features
            live in the same P-dimensional space (the X-CLIP teacher).
        prompt: prompt template; must contain ``{name}``.
        temperature: cosine temperature; None → the model's learned logit scale.

    Raises:
        ValueError: the teacher has no text tower, or the prompt lacks ``{name}``.
        FileNotFoundError: the teacher's model folder has no tokenizer.
    """

    def __init__(
        self, teacher: Any, prompt: str = DEFAULT_PROMPT, temperature: float | None = None
    ) -> None:
        if not callable(getattr(teacher, "embed_text", None)):
            name = getattr(teacher, "name", type(teacher).__name__)
            raise ValueError(
                f"predictor.text_anchors needs a teacher with a text tower (teacher.name = "
                f"'xclip'), got teacher {name!r}"
            )
        if "{name}" not in prompt:
            raise ValueError(f"prompt must contain '{{name}}', got {prompt!r}")
        temp = model_temperature(teacher) if temperature is None else float(temperature)
        if not 0 < temp <= 10:
            raise ValueError(f"temperature must be in (0, 10], got {temp!r}")
        if callable(getattr(teacher, "tokenizer", None)):
            teacher.tokenizer()  # fail at start, not in the teacher thread, without a tokenizer
        self.teacher = teacher
        self.prompt = prompt
        self.temperature = temp
        self._lock = threading.Lock()
        self._names: tuple[str, ...] = ()
        self._anchors = np.zeros((0, int(getattr(teacher, "feature_dim", 0))), np.float32)
        self.recomputed = 0  # times the anchors were embedded (tests, diagnostics)

    def prompts(self, names: Sequence[str]) -> list[str]:
        """One prompt per activity (underscores read as spaces)."""
        return [self.prompt.format(name=n.replace("_", " ").strip()) for n in names]

    def anchors(self, names: Sequence[str]) -> np.ndarray:
        """(K, P) float32 unit-norm text anchors of ``names`` (recomputed when names change)."""
        names = tuple(names)
        with self._lock:
            if names != self._names:
                if names:
                    text = self.teacher.embed_text(self.prompts(names))  # (K, P)
                    anchors = np.asarray(text, dtype=np.float32).reshape(len(names), -1)
                    anchors /= np.maximum(np.linalg.norm(anchors, axis=1, keepdims=True), 1e-12)
                else:
                    anchors = np.zeros((0, self._anchors.shape[1]), np.float32)
                self._names, self._anchors = names, anchors
                self.recomputed += 1
            return self._anchors

    def probabilities(self, features: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """(K,) probabilities over ``names`` of one clip's (P,) joint-space video features."""
        names = tuple(names)
        if not names:
            return np.zeros(0, np.float32)
        anchors = self.anchors(names)  # (K, P)
        z = np.asarray(features, dtype=np.float32).reshape(-1)  # (P,)
        if z.shape[0] != anchors.shape[1]:
            raise ValueError(
                f"features must have {anchors.shape[1]} values (text space), got {z.shape[0]}"
            )
        z = z / max(float(np.linalg.norm(z)), 1e-12)
        return softmax((anchors @ z)[None] / self.temperature)[0]  # (K,)

    def prediction(
        self, features: np.ndarray, names: Sequence[str], smoother: Smoother, t: float
    ) -> Prediction:
        """The teacher's smoothed zero-shot prediction (source ``"teacher"``)."""
        names = tuple(names)
        probs = self.probabilities(features, names)
        return smoother(dict(zip(names, map(float, probs), strict=True)), t, "teacher")
