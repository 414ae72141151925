"""Atomic, tagged checkpoints that load with ``torch.load(weights_only=True)``.

A checkpoint file holds ``{"format": FORMAT_MARKER, "version": FORMAT_VERSION, "kind": kind,
"state": state}``. ``state`` may contain only tensors, (ordered) dicts with string keys,
lists, tuples, str, int, float, bool and None — no pickled classes — so loading never runs
foreign code.

Writes are atomic and private: the payload is serialised in memory, written to a hidden temp
file (mode 0600) next to the destination, fsynced and renamed over it. A full disk (or any
other write error) removes the temp file, keeps the previous checkpoint and raises
:class:`CheckpointWriteError` with a message in words ("no space left on <folder>"). Temp files
left by a killed process (``.<name>.*.tmp``) are removed by :func:`clean_stale_temps`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

FORMAT_MARKER = "comodo-live-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint is missing, corrupt, foreign or of the wrong kind."""


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (e.g. disk full); the previous one is untouched."""


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def clean_stale_temps(
    folder: str | Path, name: str | None = None, older_than_s: float = 0.0
) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files a killed writer left in ``folder``; returns them.

    Args:
        folder: a checkpoint folder.
        name: destination file name whose temps to remove; None: any checkpoint's.
        older_than_s: only temps last modified this long ago (0: all — only when no other
            process writes checkpoints into ``folder``).
    """
    pattern = f".{name}.*.tmp" if name else ".*.tmp"
    removed = []
    now = time.time()
    for temp in Path(folder).glob(pattern):
        with contextlib.suppress(OSError):
            if (
                temp.is_file()
                and not temp.is_symlink()
                and now - temp.stat().st_mtime >= older_than_s
            ):
                temp.unlink()
                removed.append(temp)
    return removed


def _write_error(path: Path, exc: OSError) -> CheckpointWriteError:
    if exc.errno in _NO_SPACE:
        reason = f"no space left on {path.parent}"
    else:
        reason = f"cannot write to {path.parent}: {exc.strerror or exc}"
    error = CheckpointWriteError(
        f"{reason}; checkpoint {path.name} not written (the previous one, if any, is kept)"
    )
    error.errno = exc.errno  # str(error) stays the sentence above
    return error


def _check_plain(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | int | float | bool | torch.Tensor):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int):
                raise TypeError(
                    f"checkpoint key {where}[{key!r}] must be str or int, got {type(key).__name__}"
                )
            _check_plain(item, f"{where}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    raise TypeError(
        f"checkpoint value {where} has type {type(value).__name__}; only tensors, dicts, lists, "
        "tuples, str, int, float, bool and None are allowed (weights_only loading)"
    )


def save_checkpoint(path: str | Path, state: dict[str, Any], kind: str) -> Path:
    """Write ``state`` atomically: temp file in the same folder, fsync, ``os.replace``.

    On any error the previous file at ``path`` (if any) is untouched and no temp file is left.
    The file is private (mode 0600); stale temps of ``path`` from a killed writer are removed.

    Args:
        path: destination file (its folder is created if needed).
        state: plain payload (see module doc).
        kind: what the payload is, e.g. ``"session"``, ``"student"``; checked on load.

    Returns:
        The destination path.

    Raises:
        CheckpointWriteError: the file could not be written (disk full: "no space left on ...").
    """
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    _check_plain(state, "state")
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(
        {"format": FORMAT_MARKER, "version": FORMAT_VERSION, "kind": kind, "state": state}, buffer
    )
    data = buffer.getbuffer()
    temp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        clean_stale_temps(path.parent, path.name)
        handle, temp_name = tempfile.mkstemp(
            prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent
        )  # mode 0600
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except OSError as exc:
        _remove(temp_name)
        raise _write_error(path, exc) from exc
    except BaseException:
        _remove(temp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def _remove(temp_name: str | None) -> None:
    if temp_name is not None:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)


def load_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint's ``state`` with ``weights_only=True``.

    Args:
        path: checkpoint file.
        kind: expected kind; None accepts any comodo-live checkpoint.

    Raises:
        CheckpointError: missing, unreadable/corrupt, foreign (not a comodo-live checkpoint),
            newer format version, or a different kind. The message names the path and what
            was expected.
    """
    path = Path(path)
    expected = f"a comodo-live checkpoint{f' of kind {kind!r}' if kind else ''}"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist (expected {expected})")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to unpickle an untrusted file means "not ours/corrupt"
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(
            f"checkpoint {path} is corrupt, truncated or not a safe torch file "
            f"(expected {expected}): {type(exc).__name__}: {reason}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_MARKER:
        raise CheckpointError(f"{path} is a foreign file, not {expected}")
    version = payload.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version!r}; this comodo-live reads up to {FORMAT_VERSION}"
        )
    if kind is not None and payload.get("kind") != kind:
        raise CheckpointError(
            f"checkpoint {path} holds kind {payload.get('kind')!r}, expected {kind!r}"
        )
    state = payload.get("state")
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} has no state dict (expected {expected})")
    return state
