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

Reads bound sizes before torch allocates anything (:func:`check_archive`): a checkpoint is a
regular file (no symlink), a zip whose entries are all stored uncompressed (torch writes them so)
and together at most ``max_bytes``. A 2 MB file whose deflated entry expands to 2 GiB of
zeros otherwise costs 2.3 GB of RSS in ``torch.load``; storages whose declared size exceeds
their record are refused by torch itself. Then ``torch.load(weights_only=True, mmap=True)``:
tensors map the file instead of being copied into memory.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import torch

FORMAT_MARKER = "comodo-live-checkpoint"
FORMAT_VERSION = 1
# Largest total of a checkpoint's zip entries that is read. A default-config session checkpoint
# measured 8-20 MB; its growing part, the replay store, is ~1.5 KB a pair (float16), 73 MB at the
# default trainer.replay_size of 50,000: 1 GiB leaves room for ~700,000 pairs.
MAX_CHECKPOINT_BYTES = 1 << 30


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


def check_archive(path: str | Path, max_bytes: int = MAX_CHECKPOINT_BYTES) -> int:
    """Refuse a torch file that could make ``torch.load`` allocate more than ``max_bytes``.

    Reads only the zip's central directory: nothing is decompressed or allocated by size.

    Args:
        path: a torch zip archive (``torch.save``'s format).
        max_bytes: the most bytes all entries may hold together, > 0.

    Returns:
        The entries' total size in bytes.

    Raises:
        CheckpointError: missing, a symlink or not a regular file, not a zip, an entry that is
            compressed or whose sizes disagree, or entries above ``max_bytes`` in total. The
            message names the path, the size found and the limit.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
    path = Path(path)
    try:
        info = path.lstat()
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise CheckpointError(
            f"checkpoint {path} is a symbolic link; refused (give the file itself)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"checkpoint {path} is not a regular file; refused")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CheckpointError(
            f"checkpoint {path} is corrupt, truncated or not a torch zip archive ({exc}); refused"
        ) from exc
    total = 0
    for entry in entries:
        if entry.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"checkpoint {path} has a compressed entry {entry.filename!r} "
                f"({entry.compress_size} bytes expanding to {entry.file_size}); torch writes "
                "entries uncompressed, so this file is refused"
            )
        if entry.compress_size != entry.file_size:
            raise CheckpointError(
                f"checkpoint {path} entry {entry.filename!r} declares {entry.file_size} bytes "
                f"but stores {entry.compress_size}; refused as corrupt"
            )
        total += entry.file_size
    if total > max_bytes:
        raise CheckpointError(
            f"checkpoint {path} holds {total} bytes, above the limit of {max_bytes} bytes; refused"
        )
    if total > info.st_size:
        raise CheckpointError(
            f"checkpoint {path} declares {total} bytes of entries in a {info.st_size}-byte file; "
            "refused as corrupt"
        )
    return total


def load_torch_file(path: str | Path, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Any:
    """``torch.load`` of an untrusted file, sizes bounded first (:func:`check_archive`).

    Loads with ``weights_only=True`` (no foreign code) and ``mmap=True`` (tensors map the
    file, nothing is copied by declared size) onto the CPU.

    Raises:
        CheckpointError: refused by :func:`check_archive`, or torch could not read it.
    """
    check_archive(path, max_bytes)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # any failure to unpickle an untrusted file means "not ours/corrupt"
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(
            f"checkpoint {path} is corrupt, truncated or not a safe torch file: "
            f"{type(exc).__name__}: {reason}"
        ) from exc


def load_checkpoint(
    path: str | Path, kind: str | None = None, max_bytes: int = MAX_CHECKPOINT_BYTES
) -> dict[str, Any]:
    """Load a checkpoint's ``state`` with ``weights_only=True``.

    Args:
        path: checkpoint file.
        kind: expected kind; None accepts any comodo-live checkpoint.
        max_bytes: size bound checked before loading (:func:`check_archive`).

    Raises:
        CheckpointError: missing, refused by :func:`check_archive` (symlink, compressed or
            oversized), unreadable/corrupt, foreign (not a comodo-live checkpoint), newer
            format version, or a different kind. The message names the path and what was
            expected.
    """
    path = Path(path)
    expected = f"a comodo-live checkpoint{f' of kind {kind!r}' if kind else ''}"
    if not path.exists() and not path.is_symlink():
        raise CheckpointError(f"checkpoint {path} does not exist (expected {expected})")
    payload = load_torch_file(path, max_bytes)
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
