"""The session folder: ``<root>/<YYYYmmdd-HHMMSS>-<name>/`` with the XDF recording, the video
file, ``checkpoints/``, ``metrics.jsonl`` and the session's ``config.toml``.

With ``session.participant`` set, folders follow LabRecorder's BIDS template instead:
``<root>/sub-<p>/ses-<s>/sub-<p>_ses-<s>_task-<t>_run-<r>/`` (:func:`bids_session_dir`).

Private by default, whatever the umask: the folder and ``checkpoints/`` are created 0700 (no
other user can open anything inside while the session runs) and :func:`finish_session_dir`
sets every file to 0600 and every folder to 0700 when the session stops. It also applies
``session.keep_video_data`` (what video-derived data stays). ``recordings/README.md`` says
what each file holds."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path

from comodo_live.config import AppConfig, dump_toml

logger = logging.getLogger(__name__)

XDF_NAME = "session.xdf"
VIDEO_NAME = "video.avi"
METRICS_NAME = "metrics.jsonl"
LOG_NAME = "session.log"  # the session's Python log at INFO (session_log.SessionLog)
CONFIG_NAME = "config.toml"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_NAME = "latest.pt"
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv")  # the camera's video files (video*.<suffix>)
KEEP_VIDEO_DATA = ("all", "embeddings", "none")
STALE_TEMP_S = 60.0  # a checkpoint temp file older than this belongs to a killed writer


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.")
    return cleaned or "session"


def bids_session_dir(
    root: str | Path, participant: str, session: str = "", task: str = "", run: str = ""
) -> Path:
    """The BIDS-style session folder (not created): LabRecorder's ``sub-%p/ses-%s/`` levels,
    named ``sub-<p>[_ses-<s>]_task-<t>_run-<r>``.

    Args:
        root: folder that holds the ``sub-`` folders.
        participant, session, task: labels (letters and digits; ``session`` may be empty).
        run: run number; empty: the next one not taken under the same labels.

    Raises:
        FileExistsError: ``run`` was given and that run's folder exists (nothing overwritten).
    """
    parent = Path(root) / f"sub-{participant}"
    prefix = f"sub-{participant}"
    if session:
        parent, prefix = parent / f"ses-{session}", f"{prefix}_ses-{session}"
    prefix = f"{prefix}_task-{task or 'default'}_run-"
    if run:
        path = parent / f"{prefix}{run}"
        if path.exists():
            raise FileExistsError(
                f"session.run = {run!r}: {path} exists; give another run number, or leave "
                "session.run empty for the next free one"
            )
        return path
    taken = {p.name[len(prefix) :] for p in parent.glob(f"{prefix}*")}
    n = 1
    while str(n) in taken:
        n += 1
    return parent / f"{prefix}{n}"


def _new_session_dir(root: Path, name: str, config: AppConfig | None) -> Path:
    ses = config.session if config is not None else None
    if ses is not None and ses.participant:
        task = ses.task or re.sub(r"[^A-Za-z0-9]+", "", name)
        return bids_session_dir(root, ses.participant, ses.session, task, ses.run)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{_safe(name)}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def create_session_dir(root: str | Path, name: str, config: AppConfig | None = None) -> Path:
    """Make a new, unique session folder (and ``checkpoints/``); write ``config.toml``.

    The folder is ``<root>/<YYYYmmdd-HHMMSS>-<name>``, or with ``config.session.participant``
    set the BIDS-style :func:`bids_session_dir` (``task`` defaults to ``name``).
    """
    root = Path(root)
    path = _new_session_dir(root, name, config)
    root.mkdir(parents=True, exist_ok=True)
    for level in reversed(path.relative_to(root).parents[:-1]):  # sub-<p>/, ses-<s>/: private
        folder = root / level
        if not folder.exists():
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)
    path.mkdir(mode=0o700)
    (path / CHECKPOINT_DIR).mkdir(mode=0o700)
    for folder in (path, path / CHECKPOINT_DIR):
        folder.chmod(0o700)  # mkdir's mode is masked by the umask only ever downwards: be sure
    if config is not None:
        _write_private(path / CONFIG_NAME, dump_toml(config))
    return path


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    path.chmod(0o600)


def make_private(session_dir: str | Path) -> None:
    """Every folder under ``session_dir`` (itself included) 0700, every file 0600."""
    root = Path(session_dir)
    with contextlib.suppress(OSError):
        root.chmod(0o700)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        with contextlib.suppress(OSError):
            path.chmod(0o700 if path.is_dir() else 0o600)


def video_files(session_dir: str | Path) -> list[Path]:
    """The camera's video files in a session folder (``video*.avi`` / ``.mp4`` / ``.mkv``)."""
    return sorted(
        p
        for p in Path(session_dir).glob("video*")
        if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
    )


def finish_session_dir(session_dir: str | Path, keep_video_data: str = "all") -> list[str]:
    """After a session: apply ``session.keep_video_data`` and make the folder private.

    Args:
        session_dir: the session folder.
        keep_video_data: "all" (keep), "embeddings" (delete the video files) or "none" (also
            strip teacher embeddings, replay pairs and the queue from the checkpoint).

    Returns:
        What was removed, in words (for the log / status).
    """
    if keep_video_data not in KEEP_VIDEO_DATA:
        raise ValueError(
            f"keep_video_data = {keep_video_data!r} is invalid; valid: {list(KEEP_VIDEO_DATA)}"
        )
    folder = Path(session_dir)
    removed: list[str] = []
    if keep_video_data in ("embeddings", "none"):
        for video in video_files(folder):
            video.unlink()
            removed.append(str(video))
    checkpoint = checkpoint_path(folder)
    if keep_video_data == "none" and checkpoint.is_file():
        from comodo_live.learning.compact import strip_video_data  # torch: only here
        from comodo_live.learning.state import load_state, save_state

        save_state(checkpoint, strip_video_data(load_state(checkpoint)))
        removed.append(f"teacher embeddings in {checkpoint}")
    make_private(folder)
    return removed


def remove_session_dir(session_dir: str | Path) -> None:
    """Delete a session folder made by a start that failed (best effort, logged)."""
    import shutil

    def log(_function: object, path: str, exc_info: tuple[object, BaseException, object]) -> None:
        logger.warning("could not remove %s of a failed start: %s", path, exc_info[1])

    shutil.rmtree(session_dir, onerror=log)


def checkpoint_path(session_dir: str | Path) -> Path:
    """Where a session's resumable checkpoint lives."""
    return Path(session_dir) / CHECKPOINT_DIR / CHECKPOINT_NAME


def resolve_resume(spec: str, root: str | Path, exclude: Path | None = None) -> Path | None:
    """The checkpoint file to resume from.

    ``"latest"`` is the newest session checkpoint under ``root`` that loads: a corrupt or
    truncated newer one is skipped with a warning naming it, and the one chosen is logged.
    Checkpoint temp files a killed process left under ``root`` (older than a minute) are removed.

    Args:
        spec: ``""`` (none), ``"latest"`` (newest session under ``root`` with a good checkpoint),
            a session folder, or a checkpoint file.
        root: folder of session folders.
        exclude: a session folder to ignore for ``"latest"`` (the one just created).

    Raises:
        FileNotFoundError: the named folder/file has no checkpoint, or ``"latest"`` found no
            usable checkpoint under ``root`` (the message lists the ones skipped).
    """
    if not spec:
        return None
    if spec == "latest":
        return _newest_good(Path(root), exclude)
    path = Path(spec)
    if path.is_dir():
        path = checkpoint_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"session.resume = {spec!r}: no checkpoint at {path}")
    return path


def _newest_good(root: Path, exclude: Path | None) -> Path:
    from comodo_live.training.checkpoint import (  # torch: only when resuming
        CheckpointError,
        clean_stale_temps,
        load_checkpoint,
    )

    folders = _glob_sessions(root, CHECKPOINT_DIR) if root.is_dir() else []
    for folder in folders:
        clean_stale_temps(folder, older_than_s=STALE_TEMP_S)
    candidates = sorted(
        (
            p
            for p in _glob_sessions(root, f"{CHECKPOINT_DIR}/{CHECKPOINT_NAME}")
            if p.parents[1] != exclude
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    skipped = []
    for candidate in candidates:
        try:
            load_checkpoint(candidate, "session")
        except CheckpointError as exc:
            logger.warning("resume latest: skipping %s", exc)
            skipped.append(str(candidate))
            continue
        note = f" (skipped newer, unreadable: {', '.join(skipped)})" if skipped else ""
        logger.warning("resume latest: resuming from %s%s", candidate, note)
        return candidate
    unreadable = f"; unreadable: {', '.join(skipped)}" if skipped else ""
    raise FileNotFoundError(
        f"session.resume = 'latest': no usable session checkpoint under {root}{unreadable} "
        "(start without --resume for a fresh session)"
    )


SESSION_LAYOUTS = ("*", "sub-*/*", "sub-*/ses-*/*")  # dated folders, BIDS without / with ses-


def _glob_sessions(root: Path, inside: str) -> list[Path]:
    """``inside`` (a relative path) of every session folder under ``root``, in both layouts."""
    found = {p for layout in SESSION_LAYOUTS for p in root.glob(f"{layout}/{inside}")}
    return sorted(found)


def folder_bytes(session_dir: str | Path) -> int:
    """Current size of the recording files (``session*.xdf``, ``video*.avi``), bytes."""
    total = 0
    folder = Path(session_dir)
    for path in [*folder.glob("session*.xdf"), *folder.glob("video*.avi")]:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total
