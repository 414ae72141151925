"""Run a session export in a child process.

Why: torch's dynamo ONNX exporter changes process-global torch state while it traces
(``torch.fx.traceback``'s metadata, among others), which breaks torch code running at the same
time in other threads — the live engine's trainer crashed with ``KeyError: 'custom'`` in
``optimizer.zero_grad()`` during an in-process export. A child process shares none of that state;
it also runs at lower priority with one torch thread so the live pipeline keeps its cores.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path

from comodo_live.export.session import SessionExportError

CHILD_NICE = 10


def export_in_child(
    session_dir: Path,
    out_dir: Path,
    progress: Callable[[float], None],
    overwrite: bool,
    timeout_s: float = 900.0,
    int8: bool = False,
) -> Path:
    """``python -m comodo_live.export.cli`` in a child; progress relayed from its stdout.

    Raises:
        SessionExportError: the child failed (its error message is passed on) or timed out.
    """
    command = [
        sys.executable, "-m", "comodo_live.export.cli",
        "--session", str(session_dir), "--out", str(out_dir),
        "--progress-lines", "--nice", str(CHILD_NICE), "--threads", "1",
    ]  # fmt: skip
    if overwrite:
        command.append("--force")
    if int8:
        command.append("--int8")
    # stderr goes to a file: a full pipe that nobody reads would block the child.
    with (
        tempfile.TemporaryFile(mode="w+") as stderr,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True) as child,
    ):
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("progress "):
                progress(float(line.split()[1]))
        try:
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            child.kill()
            raise SessionExportError(
                f"export of {session_dir} did not finish in {timeout_s} s"
            ) from exc
        stderr.seek(0)
        errors = deque(stderr, maxlen=20)
    if child.returncode != 0:
        message = next(
            (
                line.strip()[len("error: ") :]
                for line in reversed(errors)
                if line.startswith("error: ")
            ),
            "".join(errors).strip() or f"exit status {child.returncode}",
        )
        raise SessionExportError(message)
    return out_dir
