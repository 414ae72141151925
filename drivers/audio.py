"""Microphone → LSL audio stream (mono float32, 16 kHz by default), via sounddevice.

sounddevice (PortAudio, ``libportaudio2``) is imported in :meth:`AudioDriver.start`, so this module
imports on machines without an audio stack. Blocks are pushed from PortAudio's callback thread,
each stamped with its ADC time mapped onto ``local_clock()`` (or its arrival time when the host
API reports no ADC time).

CLI: ``python -m drivers.audio --list-devices`` / ``python -m drivers.audio --duration 10``.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import threading
import uuid
from typing import Any

import numpy as np
import pylsl

from comodo_live.streams.names import AUDIO_TYPE
from comodo_live.worker import StartStop

from ._cli import run_for
from ._lsl import make_stream_info

logger = logging.getLogger(__name__)


class AudioDriver(StartStop):
    """Publishes one microphone channel as an LSL ``Audio`` stream, in blocks.

    Args:
        device: sounddevice input device (index or name substring); None = default input.
        rate_hz: sampling rate in Hz.
        source_id: unique LSL source id.
        name: LSL stream name.
        block_s: block (chunk) duration in seconds.
    """

    def __init__(
        self,
        device: int | str | None = None,
        rate_hz: int = 16000,
        source_id: str = "comodo-audio",
        name: str = "Microphone",
        block_s: float = 0.02,
    ) -> None:
        if not 4000 <= rate_hz <= 192000:
            raise ValueError(f"rate_hz must be in [4000, 192000], got {rate_hz}")
        if not 0.001 <= block_s <= 1.0:
            raise ValueError(f"block_s must be in [0.001, 1] s, got {block_s}")
        if not source_id:
            raise ValueError(f"source_id must be a non-empty string, got {source_id!r}")
        self.device = device
        self.rate_hz = int(rate_hz)
        self.source_id = source_id
        self.name = name
        self.block_s = block_s
        self.samples_pushed = 0
        self.overflows = 0
        self.error: BaseException | None = None
        self._stream: Any = None
        self._outlet: pylsl.StreamOutlet | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        stream = self._stream
        return stream is not None and bool(stream.active)

    def start(self) -> AudioDriver:
        """Open the input device and start publishing. Raises if already running."""
        import sounddevice as sd  # lazily: needs PortAudio

        with self._lock:
            if self._stream is not None:
                raise RuntimeError("AudioDriver is already running")
            info = make_stream_info(
                self.name,
                AUDIO_TYPE,
                self.source_id,
                rate_hz=self.rate_hz,
                channel_format=pylsl.cf_float32,
                labels=("mono",),
                units=("normalized",),
                meta={"device": "" if self.device is None else self.device},
            )
            self._outlet = pylsl.StreamOutlet(info)
            try:
                stream = sd.InputStream(
                    samplerate=self.rate_hz,
                    channels=1,
                    dtype="float32",
                    device=self.device,
                    blocksize=max(1, round(self.rate_hz * self.block_s)),
                    callback=self._callback,
                )
                stream.start()
            except BaseException:
                self._outlet = None
                raise
            self._stream = stream
        return self

    def _callback(self, indata: np.ndarray, frames: int, timing: Any, status: Any) -> None:
        outlet = self._outlet
        if outlet is None:
            return
        try:
            if status and status.input_overflow:
                self.overflows += 1
            now = pylsl.local_clock()
            adc, current = float(timing.inputBufferAdcTime), float(timing.currentTime)
            first = (
                now - (current - adc)
                if adc > 0 and 0 <= current - adc < 1.0
                else now - (frames - 1) / self.rate_hz
            )
            outlet.push_chunk(
                np.ascontiguousarray(indata[:, :1]), first + (frames - 1) / self.rate_hz
            )
            self.samples_pushed += frames
        except Exception as exc:  # PortAudio swallows callback exceptions: keep it visible
            logger.exception("audio callback failed")
            self.error = exc
            raise

    def stop(self) -> None:
        """Stop and close the device (idempotent)."""
        with self._lock:
            stream, self._stream = self._stream, None
            if stream is not None:
                stream.stop()
                stream.close()
            self._outlet = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.audio", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--device", help="input device index or name substring (default: system default)"
    )
    parser.add_argument("--rate", type=int, default=16000, help="sampling rate, Hz")
    parser.add_argument("--source-id", default=f"comodo-audio-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--name", default="Microphone")
    parser.add_argument(
        "--list-devices", action="store_true", help="print the audio devices and exit"
    )
    parser.add_argument(
        "--duration", type=float, default=0.0, metavar="S", help="run S seconds (0 = until Ctrl-C)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.list_devices:
        import sounddevice as sd

        print(sd.query_devices())
        return 0
    device: int | str | None = (
        int(args.device) if args.device and args.device.isdigit() else args.device
    )
    driver = AudioDriver(device, args.rate, args.source_id, args.name)
    print(f"audio stream source_id={args.source_id}", flush=True)
    run_for(driver, args.duration)
    print(f"pushed {driver.samples_pushed} samples, {driver.overflows} overflows", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
