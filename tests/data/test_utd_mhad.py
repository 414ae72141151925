"""UTD-MHAD adapter: units, resampling, depth mapping, skeleton split, real-data shapes."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.data.splits import subject_split
from comodo_live.data.utd_mhad import (
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    depth_to_clip,
    load_depth,
    load_skeletons,
    load_utd_mhad,
    resample_sequence,
)
from comodo_live.records import DEG_TO_RAD, G_TO_MS2
from tests.conftest import requires_shared
from tests.data.tiny_utd import write_tiny_utd


def test_resample_sequence__keeps_endpoints_and_shape() -> None:
    seq = np.stack([np.arange(11.0), np.arange(11.0) ** 2], axis=1)  # (11, 2)
    out = resample_sequence(seq, 21)
    assert out.shape == (21, 2)
    np.testing.assert_allclose(out[0], seq[0])
    np.testing.assert_allclose(out[-1], seq[-1])
    np.testing.assert_allclose(out[::2, 0], seq[:, 0], atol=1e-5)  # linear channel is exact


def test_resample_sequence__rejects_zero_length() -> None:
    with pytest.raises(ValueError, match="length"):
        resample_sequence(np.zeros((5, 3)), 0)


def test_load_utd_mhad__converts_units_and_labels(tmp_path) -> None:
    write_tiny_utd(tmp_path)
    ds = load_utd_mhad(tmp_path / "utd_mhad.npz", window=32)
    with np.load(tmp_path / "utd_mhad.npz") as raw:
        first = raw["inertial"][: raw["inertial_lengths"][0]]
        actions = raw["action"]
    assert ds.imu.shape == (len(actions), 6, 32) and ds.imu.dtype == np.float32
    np.testing.assert_allclose(ds.imu[0, :3, 0], first[0, :3] * G_TO_MS2, rtol=1e-5)
    np.testing.assert_allclose(ds.imu[0, 3:, -1], first[-1, 3:] * DEG_TO_RAD, rtol=1e-5)
    np.testing.assert_array_equal(ds.labels, actions - 1)
    assert len(ds) == len(actions)


def test_load_utd_mhad__foreign_file_raises(tmp_path) -> None:
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="missing keys"):
        load_utd_mhad(tmp_path / "other.npz")


def test_depth_to_clip__near_is_bright_invalid_is_black() -> None:
    depth = np.full((16, 4, 5), 3000, dtype=np.uint16)
    depth[:, 0, 0] = 0  # no reading
    depth[:, 1, 1] = 1000  # near
    clip = depth_to_clip(depth, n_frames=8)
    assert clip.shape == (8, 4, 5, 3) and clip.dtype == np.uint8
    assert (clip[..., 0] == clip[..., 2]).all()
    assert clip[0, 0, 0, 0] == 0
    assert clip[0, 1, 1, 0] > clip[0, 2, 2, 0] > 0


def test_load_skeletons__splits_by_length(tmp_path) -> None:
    write_tiny_utd(tmp_path)
    skeletons = load_skeletons(tmp_path / "utd_mhad_skeleton.npz")
    with np.load(tmp_path / "utd_mhad_skeleton.npz") as raw:
        lengths = raw["skeleton_lengths"]
    assert [s.shape for s in skeletons] == [(n, 20, 3) for n in lengths]
    assert load_depth(tmp_path / "utd_mhad.npz").shape[1] == 16


@requires_shared
def test_load_utd_mhad__real_data_cross_subject(shared_data) -> None:
    ds = load_utd_mhad(shared_data / "utd_mhad.npz")
    assert ds.imu.shape == (861, 6, 100)
    assert set(np.unique(ds.labels)) == set(range(27))
    train, test = subject_split(ds.subjects, TRAIN_SUBJECTS, TEST_SUBJECTS)
    assert set(ds.subjects[train]) == {1, 3, 5, 7} and set(ds.subjects[test]) == {2, 4, 6, 8}
    assert train.size + test.size == 861
    # gravity: the mean accel magnitude over a clip is near 1 g in m/s²
    assert 7.0 < np.linalg.norm(ds.imu[:, :3].mean(axis=2), axis=1).mean() < 12.0
    assert len(load_skeletons(shared_data / "utd_mhad_skeleton.npz")) == 861
