"""IMU driver: 6 x float32 channels (accel m/s², gyro rad/s) on an LSL stream of type ``IMU``.

Sources: :class:`~drivers.imu_sources.SerialImuSource`, :class:`~drivers.imu_sources.UdpImuSource`,
:class:`~drivers.imu_sources.CsvImuSource`, :class:`~drivers.synthetic_motion.SyntheticImuSource`.

CLI examples::

    python -m drivers.imu --source csv --path gopro_walk_imu.csv --duration 10
    python -m drivers.imu --source serial --port /dev/ttyACM0 --units g,deg/s --rate 100
    python -m drivers.imu --source udp --udp-port 5555
    python -m drivers.imu --source synthetic --rate 50
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import uuid

import numpy as np
import pylsl

from comodo_live.worker import Worker

from ._cli import run_for
from ._lsl import imu_stream_info, push_stamped
from .imu_sources import CsvImuSource, ImuSource, ImuUnits, SerialImuSource, UdpImuSource
from .synthetic_motion import SyntheticImuSource

__all__ = [
    "CsvImuSource",
    "ImuDriver",
    "ImuSource",
    "ImuUnits",
    "SerialImuSource",
    "SyntheticImuSource",
    "UdpImuSource",
]

logger = logging.getLogger(__name__)


class ImuDriver(Worker):
    """Publishes an :class:`ImuSource` as an LSL IMU stream, in chunks, from its own thread.

    The stream's nominal rate is the source's ``rate_hz``; its metadata carries channel labels,
    units and types (``desc/channels/channel``) and the source description (``desc/source``).

    Args:
        source: where samples come from (opened at ``start()``, closed at ``stop()``).
        source_id: unique LSL source id.
        name: LSL stream name.
        read_timeout_s: longest wait for the source per loop, seconds (bounds ``stop()`` latency).
    """

    def __init__(
        self, source: ImuSource, source_id: str, name: str = "IMU", read_timeout_s: float = 0.05
    ) -> None:
        super().__init__(f"ImuDriver[{source_id}]")
        if not source_id:
            raise ValueError(f"source_id must be a non-empty string, got {source_id!r}")
        if not 0 < read_timeout_s <= 1:
            raise ValueError(f"read_timeout_s must be in (0, 1], got {read_timeout_s}")
        self.source = source
        self.source_id = source_id
        self.name = name
        self.read_timeout_s = read_timeout_s
        self.samples_pushed = 0
        self.chunks_pushed = 0
        self.last_timestamp: float | None = None
        self.ended = False
        self._outlet: pylsl.StreamOutlet | None = None

    def _open(self) -> None:
        self.ended = False
        self.source.open()
        info = imu_stream_info(
            self.name, self.source_id, self.source.rate_hz, {"source": self.source.description}
        )
        self._outlet = pylsl.StreamOutlet(info)

    def _loop(self) -> None:
        outlet = self._outlet
        assert outlet is not None
        while not self._stop_event.is_set():
            chunk = self.source.read(self.read_timeout_s, self._stop_event)
            if chunk is None:
                self.ended = True
                logger.info("%s: source %s ended", self._name, self.source.description)
                return
            if len(chunk.data) == 0:
                continue
            data = np.ascontiguousarray(chunk.data, dtype=np.float32)
            if data.ndim != 2 or data.shape[1] != 6:
                raise ValueError(f"IMU source returned data of shape {data.shape}, expected (N, 6)")
            push_stamped(outlet, data, chunk.timestamps)
            self.samples_pushed += len(data)
            self.chunks_pushed += 1
            self.last_timestamp = float(chunk.timestamps[-1])

    def _close(self) -> None:
        self.source.close()
        self._outlet = None


def build_source(args: argparse.Namespace) -> ImuSource:
    units = ImuUnits.parse(args.units) if args.units else None
    if args.source == "serial":
        if not args.port:
            raise SystemExit("--source serial needs --port")
        return SerialImuSource(args.port, args.baud, units, args.rate or 100.0)
    if args.source == "udp":
        return UdpImuSource(args.host, args.udp_port, units, args.rate or 100.0)
    if args.source == "csv":
        if not args.path:
            raise SystemExit("--source csv needs --path")
        return CsvImuSource(args.path, args.time_column, units=units, loop=not args.no_loop)
    return SyntheticImuSource(rate_hz=args.rate or 50.0, seed=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.imu", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--source", choices=("serial", "udp", "csv", "synthetic"), default="synthetic"
    )
    parser.add_argument("--port", help="serial device, e.g. /dev/ttyACM0")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--host", default="127.0.0.1", help="UDP bind address (0.0.0.0 = LAN)")
    parser.add_argument("--udp-port", type=int, default=5555)
    parser.add_argument("--path", help="CSV file")
    parser.add_argument("--time-column", default="time_s")
    parser.add_argument("--no-loop", action="store_true", help="CSV: stop at the end of the file")
    parser.add_argument("--units", help="'<accel>,<gyro>' the source sends, e.g. 'g,deg/s'")
    parser.add_argument("--rate", type=float, default=0.0, help="nominal rate, Hz")
    parser.add_argument("--seed", type=int, default=0, help="synthetic source seed")
    parser.add_argument("--source-id", default=f"comodo-imu-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--name", default="IMU")
    parser.add_argument(
        "--duration", type=float, default=0.0, metavar="S", help="run S seconds (0 = until Ctrl-C)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    driver = ImuDriver(build_source(args), args.source_id, args.name)
    print(f"IMU stream source_id={args.source_id} source={driver.source.description}", flush=True)
    run_for(driver, args.duration)
    print(f"pushed {driver.samples_pushed} samples", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
