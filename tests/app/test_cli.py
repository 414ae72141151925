"""``python app.py --headless``: a subprocess run writes the session folder; SIGINT stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pyxdf

from comodo_app.cli import build_parser, config_from_args
from comodo_live.learning.state import load_state

from .conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lsl


def _command(tmp_path: Path, *extra: str) -> list[str]:
    sets = [f"--set={k}={v}" for k, v in FAST.items() if k != "source.mode"]
    return [
        sys.executable,
        str(ROOT / "app.py"),
        "--headless",
        "--demo",
        "--root",
        str(tmp_path),
        "--status-every",
        "1",
        *sets,
        *extra,
    ]


def _session(tmp_path: Path) -> Path:
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def test_cli__config_from_flags_and_sets() -> None:
    args = build_parser().parse_args(
        ["--replay", "x.xdf", "--set", "window.hop_s=0.25", "--name", "bob", "--no-record"]
    )
    config = config_from_args(args)
    assert config.source.mode == "replay" and config.source.replay_path == "x.xdf"
    assert (
        config.window.hop_s == 0.25 and config.session.name == "bob" and not config.session.record
    )


def test_cli__bad_override_exits_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--headless", "--demo", "--set", "trainer.lr=-1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "trainer.lr = -1.0 is out of range" in result.stderr


def test_cli__headless_demo_writes_the_session_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        _command(tmp_path, "--duration", "8", "--camera-off-after", "5"),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COMODO_RAISE": "0"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    status = [line for line in lines if "steps/s" in line or "waiting for pairs" in line]
    assert len(status) >= 4
    assert any("camera OFF" in line for line in status) and any(
        "camera ON" in line for line in status
    )
    assert any("camera switched OFF" in line for line in lines)
    session = _session(tmp_path)
    for name in (
        "config.toml",
        "metrics.jsonl",
        "session.xdf",
        "video.avi",
        "checkpoints/latest.pt",
    ):
        assert (session / name).is_file(), name
    assert load_state(session / "checkpoints" / "latest.pt")["step"] > 0
    streams, _ = pyxdf.load_xdf(str(session / "session.xdf"))
    assert {s["info"]["type"][0] for s in streams} >= {"IMU", "VideoFrameIndex", "Markers"}


def test_cli__sigint_stops_cleanly_and_keeps_everything(tmp_path: Path) -> None:
    process = subprocess.Popen(
        _command(tmp_path, "--duration", "120"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COMODO_RAISE": "0"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and seen < 4:
        line = process.stdout.readline()
        seen += "camera ON" in line
    assert seen >= 4, "no status lines"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    assert "stopping cleanly" in out and "stopped; session folder" in out
    assert "Traceback" not in err
    session = _session(tmp_path)
    streams, _ = pyxdf.load_xdf(str(session / "session.xdf"))
    imu = next(s for s in streams if s["info"]["type"][0] == "IMU")
    assert len(imu["time_stamps"]) > 0
    assert (session / "checkpoints" / "latest.pt").is_file()


def test_cli__lsl_lan_points_liblsl_at_a_lan_config_before_pylsl(tmp_path: Path) -> None:
    """Only the config file and LSLAPICFG are checked: LSL never runs with the LAN config."""
    code = (
        "import os, sys\n"
        "import app\n"
        "from comodo_app import cli\n"
        f"args = cli.build_parser().parse_args(['--lsl-lan', '--root', {str(tmp_path)!r}])\n"
        "path = cli.open_lsl_to_lan(cli.config_from_args(args))\n"
        "print(os.environ['LSLAPICFG'] == str(path), 'pylsl' in sys.modules, path)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    same, pylsl_loaded, path = result.stdout.split()
    assert (same, pylsl_loaded) == ("True", "False")
    assert Path(path) == tmp_path / "lsl_api_lan.cfg"
    assert "ResolveScope = site" in Path(path).read_text()
    assert "warning: --lsl-lan" in result.stderr and "local network" in result.stderr


def test_cli__lsl_lan_refused_once_pylsl_is_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pylsl  # noqa: F401  (liblsl has read its config: too late to open it to the LAN)

    from comodo_app.cli import main

    before = os.environ.get("LSLAPICFG")
    argv = ["--headless", "--demo", "--lsl-lan", "--root", str(tmp_path), "--duration", "1"]
    assert main(argv) == 2
    assert "must run before pylsl" in capsys.readouterr().err
    assert os.environ.get("LSLAPICFG") == before and not any(tmp_path.iterdir())
