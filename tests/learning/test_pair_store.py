"""PairStore: bounded, fresh-first sampling, FIFO marking, NaN refusal, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.learning.pair_store import PairStore


def _pair(value: float) -> tuple[np.ndarray, np.ndarray]:
    return np.full((6, 10), value, np.float32), np.full(4, value, np.float32)


def test_replay_store__bounded_ring_keeps_newest() -> None:
    store = PairStore(capacity=5, channels=6, samples=10, dim=4)
    for i in range(12):
        assert store.add(*_pair(i))
    assert len(store) == 5 and store.added == 12
    state = store.state()
    np.testing.assert_array_equal(state["z_v"][:, 0].numpy(), [7, 8, 9, 10, 11])  # oldest first


def test_replay_store__refuses_non_finite_and_wrong_shapes() -> None:
    store = PairStore(capacity=5, channels=6, samples=10, dim=4)
    imu, z = _pair(1.0)
    imu[3, 3] = np.nan
    assert not store.add(imu, z)
    assert not store.add(np.zeros((6, 11), np.float32), z)
    assert not store.add(_pair(1.0)[0], np.array([np.inf, 0, 0, 0], np.float32))
    assert len(store) == 0 and store.rejected == 3


def test_replay_store__samples_unqueued_pairs_first_without_repeats() -> None:
    store = PairStore(capacity=20, channels=6, samples=10, dim=4)
    rng = np.random.default_rng(0)
    for i in range(10):
        store.add(*_pair(i))
    slots, _imu, z = store.sample(4, rng)
    assert z[:, 0].tolist() == [9, 8, 7, 6]  # the newest not-yet-queued pairs
    assert store.mark_queued(slots).all()
    assert not store.mark_queued(slots).any()  # a second time: nothing fresh
    slots, _imu, z = store.sample(8, rng)
    assert len(set(slots.tolist())) == 8
    assert z[:4, 0].tolist() == [5, 4, 3, 2]
    slots, _, _ = store.sample(50, rng)
    assert slots.size == 10  # never more than stored


def test_replay_store__state_round_trip() -> None:
    store = PairStore(capacity=4, channels=6, samples=10, dim=4)
    for i in range(6):
        store.add(*_pair(i))
    store.mark_queued(np.array([0, 1]))
    other = PairStore(capacity=4, channels=6, samples=10, dim=4)
    other.load_state(store.state())
    for key in ("imu", "z_v", "queued"):
        np.testing.assert_array_equal(other.state()[key].numpy(), store.state()[key].numpy())
    other.add(*_pair(99))
    assert other.state()["z_v"][-1, 0] == 99


@pytest.mark.parametrize("bad", [0, -1])
def test_replay_store__validates_capacity(bad: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        PairStore(capacity=bad, channels=6, samples=10, dim=4)
