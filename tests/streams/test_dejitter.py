from __future__ import annotations

import numpy as np
import pytest

from comodo_live.streams.dejitter import Dejitter


def test_dejitter__fit_removes_most_jitter() -> None:
    rng = np.random.default_rng(0)
    truth = 100.0 + np.arange(2000) / 200.0  # 200 Hz
    raw = truth + rng.uniform(0.0, 0.004, truth.size)  # transport delay jitter, mean 2 ms
    dejitter = Dejitter(200.0)
    out = np.concatenate([dejitter.process(raw[i : i + 37])[0] for i in range(0, raw.size, 37)])
    error = out[200:] - truth[200:] - 0.002  # the constant mean delay cannot be known
    assert np.std(raw[200:] - truth[200:]) > 0.001
    assert np.abs(error).max() < 0.0005
    assert np.all(np.diff(out) >= 0)


def test_dejitter__gap_resets_the_fit_and_is_reported() -> None:
    first = np.arange(300) / 100.0
    second = 10.0 + np.arange(300) / 100.0
    dejitter = Dejitter(100.0, gap_factor=5.0)
    _, gaps1 = dejitter.process(first)
    out2, gaps2 = dejitter.process(second)
    assert gaps1 == []
    assert len(gaps2) == 1
    assert gaps2[0].t0 == pytest.approx(2.99) and gaps2[0].t1 == pytest.approx(10.0)
    np.testing.assert_allclose(out2, second, atol=1e-9)  # not bent by the first segment


def test_dejitter__rejects_bad_rates() -> None:
    with pytest.raises(ValueError, match="nominal_srate"):
        Dejitter(0.0)
    with pytest.raises(ValueError, match="gap_factor"):
        Dejitter(100.0, gap_factor=1.0)


def test_dejitter__chunking_does_not_change_the_result_much() -> None:
    rng = np.random.default_rng(1)
    raw = 5.0 + np.arange(1000) / 100.0 + rng.uniform(0.0, 0.003, 1000)
    whole = Dejitter(100.0).process(raw)[0]
    single = np.concatenate(_feed_one_by_one(raw))
    np.testing.assert_allclose(whole[100:], single[100:], atol=5e-4)


def _feed_one_by_one(raw: np.ndarray) -> list[np.ndarray]:
    dejitter = Dejitter(100.0)
    return [dejitter.process(raw[i : i + 1])[0] for i in range(raw.size)]


def test_dejitter__backwards_jump_is_a_gap_and_restarts_output() -> None:
    dejitter = Dejitter(100.0)
    dejitter.process(100.0 + np.arange(50) / 100.0)
    out, gaps = dejitter.process(10.0 + np.arange(50) / 100.0)
    assert len(gaps) == 1 and gaps[0].t1 < gaps[0].t0
    np.testing.assert_allclose(out, 10.0 + np.arange(50) / 100.0, atol=1e-9)


def test_dejitter__passthrough_when_disabled_still_finds_gaps() -> None:
    rng = np.random.default_rng(2)
    raw = np.concatenate([np.arange(100) / 100.0, 5.0 + np.arange(100) / 100.0])
    raw = raw + rng.uniform(0, 0.002, raw.size)
    out, gaps = Dejitter(100.0, enabled=False).process(raw)
    np.testing.assert_array_equal(out, raw)
    assert len(gaps) == 1
