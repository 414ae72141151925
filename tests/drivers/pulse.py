"""A PulseAudio null sink as a real-time virtual sound card for sounddevice tests.

Needs the apt packages ``libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins`` (the last
routes PortAudio's ALSA default device to PulseAudio). Equivalent shell::

    pulseaudio -n --daemonize=yes --exit-idle-time=-1 -L module-native-protocol-unix \
        -L "module-null-sink sink_name=vsink rate=48000" -L module-always-sink
    pactl set-default-sink vsink; pactl set-default-source vsink.monitor
    pacat --playback --raw --format=s16le --rate=48000 --channels=2 </dev/zero &

The silent playback keeps the sink running (otherwise recording its monitor stalls).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest


def _pactl_ok() -> bool:
    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _has_vsink() -> bool:
    result = subprocess.run(
        ["pactl", "list", "short", "sinks"], capture_output=True, text=True, timeout=5
    )
    return "vsink" in result.stdout


def _sink_inputs() -> bool:
    result = subprocess.run(
        ["pactl", "list", "short", "sink-inputs"], capture_output=True, text=True, timeout=5
    )
    return bool(result.stdout.strip())


@pytest.fixture(scope="session")
def pulse_null_sink() -> Iterator[None]:
    """Start (or reuse) a PulseAudio server with a null sink; skip if PulseAudio is missing."""
    missing = [tool for tool in ("pulseaudio", "pactl", "pacat") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"PulseAudio tools {missing} not installed (apt-get install pulseaudio pulseaudio-utils)"
        )
    try:
        import ctypes.util

        if ctypes.util.find_library("portaudio") is None:
            pytest.skip("libportaudio2 not installed (apt-get install libportaudio2)")
    except ImportError:  # pragma: no cover
        pass
    started = False
    if not _pactl_ok():
        started = True
        subprocess.run(
            [
                "pulseaudio",
                "-n",
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-L",
                "module-native-protocol-unix",
                "-L",
                "module-null-sink sink_name=vsink rate=48000",
                "-L",
                "module-always-sink",
            ],
            capture_output=True,
            timeout=20,
        )
        deadline = time.monotonic() + 10
        while not _pactl_ok() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _pactl_ok():
            pytest.skip("could not start a PulseAudio server")
    if not _has_vsink():
        subprocess.run(
            ["pactl", "load-module", "module-null-sink", "sink_name=vsink", "rate=48000"],
            capture_output=True,
            timeout=10,
        )
    subprocess.run(["pactl", "set-default-sink", "vsink"], capture_output=True, timeout=10)
    subprocess.run(
        ["pactl", "set-default-source", "vsink.monitor"], capture_output=True, timeout=10
    )
    zeros = open("/dev/zero", "rb")  # noqa: SIM115  (closed below)
    playback = subprocess.Popen(
        ["pacat", "--playback", "--raw", "--format=s16le", "--rate=48000", "--channels=2"],
        stdin=zeros,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10  # the silent playback must be flowing before recording starts
    while time.monotonic() < deadline and not _sink_inputs():
        time.sleep(0.1)
    time.sleep(0.5)
    if "sounddevice" in sys.modules:  # PortAudio enumerated devices before the server existed
        sd = sys.modules["sounddevice"]
        sd._terminate()
        sd._initialize()
    try:
        yield
    finally:
        playback.terminate()  # only the process this fixture started
        playback.wait(5)
        zeros.close()
        if started:  # the server this fixture started
            subprocess.run(["pulseaudio", "--kill"], capture_output=True, timeout=10)
