"""Free space on the session's volume: the recording stops before the disk is full.

The recording (XDF + video) is what fills a disk; the learning (a checkpoint written atomically
next to the previous one) and the logs are small but need room at the moment they are written.
:class:`DiskGuard` says, in words, when the volume holding the session folder has less free
space than a reserve (:data:`RESERVE_BYTES` plus the newest checkpoint's size: room for the next
checkpoint beside it). The controller then stops the recording, keeps learning and predicting,
and skips the end-of-session report; nothing here stops anything itself.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

RESERVE_BYTES = 4 * 2**20  # kept free for footers, logs and metrics, bytes (plus a checkpoint)
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG})


def free_bytes(folder: str | Path) -> int:
    """Bytes free to this user on the volume holding ``folder`` (-1: cannot be read)."""
    try:
        return int(shutil.disk_usage(folder).free)
    except OSError:
        return -1


def is_no_space(exc: BaseException) -> bool:
    """True for an ``OSError`` that means the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS


def no_space_message(folder: str | Path) -> str:
    """The words the user is told: ``"no space left on <folder>"``."""
    return f"no space left on {folder}"


class DiskGuard:
    """Checks the free space of the volume holding a session folder.

    Args:
        folder: the session folder.
        reserve_bytes: free space kept for what must still be written, bytes, >= 0.
    """

    def __init__(self, folder: str | Path, reserve_bytes: int = RESERVE_BYTES) -> None:
        if not reserve_bytes >= 0:
            raise ValueError(f"reserve_bytes must be >= 0 bytes, got {reserve_bytes}")
        self.folder = Path(folder)
        self.reserve_bytes = int(reserve_bytes)
        self.free = -1  # bytes free at the last check (-1: never read)

    def needed(self, checkpoint: Path | None = None) -> int:
        """Bytes to keep free now: the reserve plus one more copy of ``checkpoint`` if it exists."""
        extra = 0
        if checkpoint is not None:
            try:
                extra = checkpoint.stat().st_size
            except OSError:
                extra = 0
        return self.reserve_bytes + extra

    def check(self, checkpoint: Path | None = None) -> str | None:
        """``"no space left on <folder> (x MB free, y MB kept ...)"`` when the free space is
        below :meth:`needed`; None when there is room (or the volume cannot be read)."""
        self.free = free_bytes(self.folder)
        need = self.needed(checkpoint)
        if self.free < 0 or self.free >= need:
            return None
        return (
            f"{no_space_message(self.folder)} ({self.free / 2**20:.1f} MB free, "
            f"{need / 2**20:.1f} MB kept for the checkpoint and logs)"
        )
