"""Input checks made before a session starts, so that a bad file or a missing display is a
usage error (exit 2, one line saying what to do) rather than a failure once the engine runs."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from comodo_live.config import AppConfig
from comodo_live.learning.seed import is_package
from comodo_live.session.folder import checkpoint_path

NO_DISPLAY = "no display: use --headless (or set QT_QPA_PLATFORM=offscreen)"


def display_problem(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why the window cannot open here, or None. On Linux/BSD, Qt needs an X11 or Wayland
    display unless ``QT_QPA_PLATFORM`` names another platform plugin (e.g. offscreen); without
    one it aborts the process (exit 134)."""
    env = os.environ if environ is None else environ
    system = sys.platform if platform is None else platform
    if system.startswith(("win", "darwin", "cygwin")):
        return None
    if any(env.get(key) for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return NO_DISPLAY


def input_problem(
    config: AppConfig, headless: bool, environ: Mapping[str, str] | None = None
) -> str | None:
    """The first thing that stops this session from starting, or None: a missing replay file,
    a ``--resume`` path with no checkpoint, no display for the window."""
    source = config.source
    if source.mode == "replay" and not (source.replay_path and Path(source.replay_path).exists()):
        return f"--replay {source.replay_path}: no such file or folder (expected an .xdf file or a session folder)"
    resume = config.session.resume
    if resume and resume != "latest" and not is_package(resume):
        path = Path(resume)
        if not (path.is_file() or checkpoint_path(path).is_file()):
            return (
                f"--resume {resume}: no checkpoint there (expected 'latest', a session folder "
                "with checkpoints/, a checkpoint file, or an exported package)"
            )
    if not headless:
        return display_problem(environ)
    return None
