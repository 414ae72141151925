"""The shared background-worker base: start/stop/running/context manager/error state."""

from __future__ import annotations

import threading

import pytest

from comodo_live.worker import CommandQueue, Worker


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


class _Once(Worker):
    """Ends by itself after one tick."""

    def __init__(self) -> None:
        super().__init__("once")
        self.opened = 0
        self.closed = 0

    def _open(self) -> None:
        self.opened += 1

    def _loop(self) -> None:
        self._stop_event.wait(0.01)

    def _close(self) -> None:
        self.closed += 1


def test_worker__join_waits_and_restart_releases_a_finished_run() -> None:
    worker = _Once().start()
    assert worker.join(5.0) and not worker.running
    assert worker.closed == 0  # ended by itself: released on stop() or the next start()
    worker.start()
    assert worker.closed == 1 and worker.opened == 2
    worker.stop()
    assert (worker.opened, worker.closed) == (2, 2)


def test_command_queue__runs_in_order_in_one_thread_and_stop_drains() -> None:
    done: list[tuple[int, str]] = []
    commands = CommandQueue("commands")
    for i in range(3):
        commands.submit(f"c{i}", lambda i=i: done.append((i, threading.current_thread().name)))
    commands.stop()  # the queued commands still run
    assert [i for i, _ in done] == [0, 1, 2]
    assert {name for _, name in done} == {"commands"}
    assert not commands.running
    commands.submit("again", lambda: done.append((3, "")))  # restarts after a stop
    commands.stop()
    assert done[-1][0] == 3


def test_command_queue__a_failure_is_reported_kept_and_later_commands_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMODO_RAISE", "0")
    reports: list[str] = []
    done: list[str] = []
    commands = CommandQueue("commands", on_error=reports.append)

    def fail() -> None:
        raise OSError("disk full")

    commands.submit("export", fail)
    commands.submit("next", lambda: done.append("next"))
    commands.stop()
    assert done == ["next"]
    assert reports == ["export failed: OSError('disk full')"]
    assert isinstance(commands.error, OSError)


def test_command_queue__stop_reraises_under_tests_and_bounds_the_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMODO_RAISE", "1")
    release = threading.Event()
    commands = CommandQueue("commands", max_pending=1)
    commands.submit("slow", lambda: release.wait(5.0))
    for _ in range(200):  # the slow command is taken off the queue
        if commands.current == "slow":
            break
        threading.Event().wait(0.01)
    commands.submit("waiting", lambda: 1 / 0)
    with pytest.raises(RuntimeError, match="third refused: 1 slow commands are already waiting"):
        commands.submit("third", lambda: None)
    release.set()
    with pytest.raises(ZeroDivisionError):
        commands.stop()
    with pytest.raises(ValueError, match="max_pending must be >= 1, got 0"):
        CommandQueue("commands", max_pending=0)


def test_command_queue__stop_from_a_command_does_not_join_itself() -> None:
    commands = CommandQueue("commands")
    done = threading.Event()

    def switch() -> None:
        commands.stop()  # e.g. a command that restarts the engine
        done.set()

    commands.submit("switch", switch)
    assert done.wait(5.0)
    commands.stop()
    assert not commands.running
