"""The free-space guard and a session log on a full disk (``/dev/full``: every write is ENOSPC)."""

from __future__ import annotations

import errno
import logging
import shutil
from pathlib import Path

import pytest

from comodo_live.session.disk_space import RESERVE_BYTES, DiskGuard, free_bytes, is_no_space
from comodo_live.session.session_log import SessionLog

DEV_FULL = Path("/dev/full")


def test_disk_guard__says_no_space_below_the_reserve_plus_a_checkpoint(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    assert abs(free_bytes(tmp_path) - free) < 64 * 2**20  # others write too
    assert DiskGuard(tmp_path, reserve_bytes=0).check() is None
    short = DiskGuard(tmp_path, reserve_bytes=free + 2**40).check()
    assert short is not None and short.startswith(f"no space left on {tmp_path} (")
    checkpoint = tmp_path / "latest.pt"
    checkpoint.write_bytes(bytes(3000))
    guard = DiskGuard(tmp_path)
    assert guard.needed(checkpoint) == RESERVE_BYTES + 3000
    assert guard.needed(tmp_path / "absent.pt") == RESERVE_BYTES
    assert free_bytes(tmp_path / "no" / "such" / "folder") == -1
    assert DiskGuard(tmp_path / "gone").check() is None  # unreadable: no false alarm


def test_disk_guard__refuses_a_negative_reserve(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserve_bytes must be >= 0 bytes, got -1"):
        DiskGuard(tmp_path, reserve_bytes=-1)


def test_is_no_space__enospc_and_quota_only() -> None:
    assert is_no_space(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_no_space(OSError(errno.EACCES, "Permission denied"))
    assert not is_no_space(ValueError("no space"))


@pytest.mark.skipif(not DEV_FULL.exists(), reason="/dev/full is needed to simulate a full disk")
def test_session_log__a_full_disk_stops_it_in_one_line(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    log = SessionLog(DEV_FULL).start()
    try:
        for i in range(20):
            logging.getLogger("comodo_live.test").warning("line %d", i)
        assert log.failed == "no space left on /dev: full stopped"
    finally:
        log.stop()  # closing a file whose tail cannot be written does not raise
    err = capsys.readouterr().err  # logging's own "--- Logging error ---" reports go here
    assert "Logging error" not in err and "Traceback" not in err
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert said == ["no space left on /dev: full stopped"]
    assert not log.running and log.failed is None
