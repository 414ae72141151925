from __future__ import annotations

import threading

import numpy as np
import pytest

from comodo_live.streams.ringbuffer import RingBuffer


def _push_range(buf: RingBuffer, start: int, stop: int, received: float = 0.0) -> None:
    k = np.arange(start, stop, dtype=np.float64)
    buf.push(k, np.stack([k, -k], axis=1), received)


def test_ringbuffer__keeps_newest_after_wraparound() -> None:
    buf = RingBuffer(capacity=10, n_channels=2)
    for start in range(0, 25, 3):  # chunks of 3 cross the wrap point several times
        _push_range(buf, start, start + 3)
    ts, values, _ = buf.newest(100)
    assert len(buf) == 10 and buf.total == 27
    np.testing.assert_array_equal(ts, np.arange(17, 27))
    np.testing.assert_array_equal(values[:, 1], -np.arange(17, 27))


def test_ringbuffer__between_is_inclusive_and_ordered() -> None:
    buf = RingBuffer(capacity=8, n_channels=2)
    _push_range(buf, 0, 13, received=5.0)
    ts, values, received = buf.between(7.0, 9.0)
    np.testing.assert_array_equal(ts, [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(values[:, 0], [7.0, 8.0, 9.0])
    assert np.all(received == 5.0)
    assert buf.time_span() == (5.0, 12.0)
    assert len(buf.between(100.0, 200.0)[0]) == 0


def test_ringbuffer__oversized_chunk_keeps_its_tail() -> None:
    buf = RingBuffer(capacity=4, n_channels=2)
    _push_range(buf, 0, 10)
    np.testing.assert_array_equal(buf.newest(4)[0], [6, 7, 8, 9])
    assert buf.total == 10


def test_ringbuffer__copies_are_independent_of_later_writes() -> None:
    buf = RingBuffer(capacity=4, n_channels=2)
    _push_range(buf, 0, 4)
    ts, values, _ = buf.newest(4)
    _push_range(buf, 4, 8)
    np.testing.assert_array_equal(ts, [0, 1, 2, 3])
    np.testing.assert_array_equal(values[:, 0], [0, 1, 2, 3])


def test_ringbuffer__rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="capacity"):
        RingBuffer(capacity=0, n_channels=1)
    with pytest.raises(ValueError, match="n_channels"):
        RingBuffer(capacity=4, n_channels=0)
    buf = RingBuffer(capacity=4, n_channels=3)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        buf.push(np.zeros(2), np.zeros((2, 2)))


def test_ringbuffer__concurrent_writer_and_reader_see_consistent_rows() -> None:
    buf = RingBuffer(capacity=64, n_channels=2)
    done = threading.Event()

    def writer() -> None:
        for start in range(0, 20000, 7):
            _push_range(buf, start, start + 7)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        ts, values, _ = buf.newest(64)
        np.testing.assert_array_equal(values[:, 0], ts)  # a row never mixes two writes
        assert np.all(np.diff(ts) == 1)
    thread.join()
