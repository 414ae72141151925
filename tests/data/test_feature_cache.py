"""Feature cache: computed once, keyed by teacher, config and data file fingerprint."""

from __future__ import annotations

import os

import numpy as np
import pytest

from comodo_live.data.feature_cache import cache_key, cached_features


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> np.ndarray:
        self.calls += 1
        return np.full((3, 2), float(self.calls), dtype=np.float32)


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc")
    return path


def test_cached_features__computes_once(tmp_path, data_file) -> None:
    compute = Counter()
    first = cached_features("t", {"a": 1}, [data_file], compute, tmp_path / "cache")
    second = cached_features("t", {"a": 1}, [data_file], compute, tmp_path / "cache")
    assert compute.calls == 1
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float32 and second.shape == (3, 2)


def test_cached_features__config_or_teacher_change_recomputes(tmp_path, data_file) -> None:
    compute = Counter()
    cached_features("t", {"a": 1}, [data_file], compute, tmp_path)
    cached_features("t", {"a": 2}, [data_file], compute, tmp_path)
    cached_features("u", {"a": 2}, [data_file], compute, tmp_path)
    assert compute.calls == 3


def test_cached_features__data_change_recomputes(tmp_path, data_file) -> None:
    compute = Counter()
    cached_features("t", {}, [data_file], compute, tmp_path / "c")
    stat = data_file.stat()
    os.utime(data_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    out = cached_features("t", {}, [data_file], compute, tmp_path / "c")
    assert compute.calls == 2 and out[0, 0] == 2.0
    data_file.write_bytes(b"abcd")
    assert cache_key("t", {}, [data_file]) != cache_key("t", {"x": 0}, [data_file])


def test_cached_features__corrupt_entry_recomputed(tmp_path, data_file) -> None:
    compute = Counter()
    cached_features("t", {}, [data_file], compute, tmp_path)
    (entry,) = tmp_path.glob("t-*.npy")
    entry.write_bytes(b"not numpy")
    cached_features("t", {}, [data_file], compute, tmp_path)
    assert compute.calls == 2


def test_cached_features__bad_shape_raises(tmp_path, data_file) -> None:
    with pytest.raises(ValueError, match=r"\(n, D\)"):
        cached_features("t", {}, [data_file], lambda: np.zeros(3), tmp_path)
