"""The shared background-worker base: start/stop/running/context manager/error state."""

from __future__ import annotations

import threading

import pytest

from comodo_live.worker import Worker


class _Counter(Worker):
    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__("counter")
        self.ticks = 0
        self.opened = 0
        self.closed = 0
        self.fail_after = fail_after

    def _open(self) -> None:
        self.opened += 1

    def _loop(self) -> None:
        while not self._stop_event.wait(0.005):
            self.ticks += 1
            if self.fail_after is not None and self.ticks >= self.fail_after:
                raise RuntimeError("sensor unplugged")

    def _close(self) -> None:
        self.closed += 1


def test_worker__context_manager_starts_stops_and_joins() -> None:
    with _Counter() as worker:
        assert worker.running
        threading.Event().wait(0.05)
    assert not worker.running
    assert worker.ticks > 0
    assert (worker.opened, worker.closed) == (1, 1)


def test_worker__stop_is_idempotent_and_start_twice_refused() -> None:
    worker = _Counter().start()
    with pytest.raises(RuntimeError, match="already running"):
        worker.start()
    worker.stop()
    worker.stop()
    assert worker.closed == 1


def _wait_stopped(worker: Worker) -> None:
    for _ in range(300):
        if not worker.running:
            return
        threading.Event().wait(0.01)


def test_worker__thread_error_is_kept_for_the_front_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMODO_RAISE", "0")
    worker = _Counter(fail_after=2).start()
    _wait_stopped(worker)
    assert not worker.running
    assert isinstance(worker.error, RuntimeError)
    worker.stop()  # the app: no re-raise, the error stays visible
    assert worker.closed == 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_worker__stop_reraises_thread_error_under_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMODO_RAISE", "1")
    worker = _Counter(fail_after=2).start()
    _wait_stopped(worker)
    with pytest.raises(RuntimeError, match="sensor unplugged"):
        worker.stop()
    worker.stop()  # re-raised once only
