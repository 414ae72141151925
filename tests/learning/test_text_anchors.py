"""Zero-shot text anchors on a tiny random X-CLIP saved to a temp folder (offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.config import ConfigError
from comodo_live.head import Smoother
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.learning.text_anchors import TextAnchors, model_temperature
from comodo_live.models.teachers import build_teacher
from tests.engine_fixtures import fast_config, synthetic_window

transformers = pytest.importorskip("transformers")

# CLIP-style text pooling reads the highest token id: activity words last, as real EOS tokens are.
WORDS = ["a", "video", "of", "person", "is", "walking", "running", "sitting", "cycling"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def xclip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path_factory.mktemp("xclip") / "xclip"
    torch.manual_seed(0)
    vision = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64}
    config = transformers.XCLIPConfig(
        text_config={**vision, "vocab_size": 50, "num_hidden_layers": 1},
        vision_config={
            **vision,
            "image_size": 32,
            "patch_size": 16,
            "num_hidden_layers": 1,
            "num_frames": 2,
            "mit_hidden_size": 32,
            "mit_intermediate_size": 64,
            "mit_num_hidden_layers": 1,
            "mit_num_attention_heads": 2,
        },
        projection_dim=32,
        prompt_layers=1,
        prompt_attention_heads=2,
    )
    transformers.XCLIPModel(config).save_pretrained(folder)
    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]"
    ).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def anchors(xclip_dir: Path) -> TextAnchors:
    return TextAnchors(build_teacher("xclip", path_or_id=str(xclip_dir)))


def test_text_anchors__shapes_unit_norm_and_probabilities(anchors: TextAnchors) -> None:
    names = ("walking", "running", "sitting")
    a = anchors.anchors(names)
    assert a.shape == (3, 32) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    probs = anchors.probabilities(np.random.default_rng(0).standard_normal(32), names)
    assert probs.shape == (3,) and np.all(probs >= 0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert anchors.prompts(["cycling_fast"]) == ["a video of a person cycling fast"]
    assert anchors.temperature == pytest.approx(model_temperature(anchors.teacher))
    assert anchors.probabilities(np.ones(32), ()).shape == (0,)
    with pytest.raises(ValueError, match="32 values"):
        anchors.probabilities(np.ones(8), names)


def test_text_anchors__video_along_an_anchor_is_that_activity(anchors: TextAnchors) -> None:
    names = ("walking", "running", "sitting", "cycling")
    a = anchors.anchors(names)
    for k, name in enumerate(names):
        probs = anchors.probabilities(3.0 * a[k], names)
        assert int(np.argmax(probs)) == k
        prediction = anchors.prediction(3.0 * a[k], names, Smoother(1.0, 0.0), t=1.0)
        assert prediction.label == name and prediction.source == "teacher"


def test_text_anchors__recomputed_when_activities_change(anchors: TextAnchors) -> None:
    before = anchors.anchors(("walking", "sitting")).copy()
    count = anchors.recomputed
    anchors.anchors(("walking", "sitting"))
    assert anchors.recomputed == count  # cached
    renamed = anchors.anchors(("walking", "cycling"))  # rename sitting → cycling
    assert anchors.recomputed == count + 1
    np.testing.assert_allclose(renamed[0], before[0], atol=1e-6)
    assert not np.allclose(renamed[1], before[1], atol=1e-3)
    text = anchors.teacher.embed_text(["a video of a person cycling"])[0].numpy()
    np.testing.assert_allclose(renamed[1], text / np.linalg.norm(text), atol=1e-5)
    assert anchors.anchors(("walking",)).shape == (1, 32)  # delete
    assert anchors.recomputed == count + 2


def test_text_anchors__refuses_teacher_without_text_tower() -> None:
    teacher = build_teacher("skeleton", num_frames=4)
    with pytest.raises(ValueError, match="text_anchors"):
        TextAnchors(teacher)


def test_config__text_anchors_needs_xclip(tmp_path: Path) -> None:
    assert fast_config(tmp_path).predictor.text_anchors is False
    with pytest.raises(ConfigError, match=r"predictor\.text_anchors.*efficientnet-lite0"):
        fast_config(tmp_path, predictor__text_anchors=True)
    config = fast_config(
        tmp_path, predictor__text_anchors=True, teacher__name="xclip", teacher__path="x"
    )
    assert config.predictor.text_anchors is True


def test_pipeline__teacher_prediction_uses_text_anchors(tmp_path: Path, xclip_dir: Path) -> None:
    config = fast_config(
        tmp_path,
        predictor__text_anchors=True,
        predictor__smoothing_alpha=1.0,
        teacher__name="xclip",
        teacher__path=str(xclip_dir),
        teacher__stats_warmup_clips=0,
    )
    labels = LabelStore(activities=("walking", "running", "sitting"))
    board = PredictionBoard()
    pipeline = Pipeline(config, labels, board)  # nothing started: no threads
    assert pipeline.text_anchors is not None
    paired = synthetic_window(10.0, kind=1)
    z_v = pipeline.teacher.encode(paired)
    features = pipeline.teacher.last_features
    assert features is not None and features.shape == (32,)
    pipeline._on_pair(paired.imu, z_v, paired)
    assert board.teacher is not None  # zero-shot: no labelled window needed
    expected = pipeline.text_anchors.probabilities(features, labels.activities)
    got = board.teacher.probabilities
    assert list(got) == list(labels.activities)
    np.testing.assert_allclose(list(got.values()), expected, atol=1e-6)
    labels.rename_activity("sitting", "cycling")
    pipeline._on_pair(paired.imu, z_v, paired)
    assert board.teacher is not None and "cycling" in board.teacher.probabilities
