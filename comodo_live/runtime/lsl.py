"""A live IMU source from any LSL stream, converted to the model's channel order and units.

``import comodo_live`` (done by this package's parent) has pointed ``LSLAPICFG`` at the
machine-scoped config before pylsl is imported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import comodo_live  # noqa: F401  (LSLAPICFG before pylsl)
from comodo_live.units import ChannelMap, check_channel_count, stream_channel_map


class LslImuSource:
    """Reads one LSL IMU stream; owns its inlet. Use as a context manager.

    Args:
        channels: the model's channel order (contract).
        stream_type: LSL ``type`` to look for (e.g. ``"IMU"``).
        source_id: pick exactly this ``source_id``; required when several streams match.
        resolve_timeout_s: how long to look for the stream, seconds.

    Raises:
        LookupError: no stream, or several matching streams and no ``source_id``.
        ChannelError: wrong channel count (message names expected and found); its subclass
            UnitError: a missing, unknown or wrong-kind unit in the stream's channel metadata
            (``desc/channels/channel/unit``) — a stream without units is refused, never taken
            for m/s² and rad/s.
    """

    def __init__(
        self,
        channels: tuple[str, ...],
        stream_type: str = "IMU",
        source_id: str | None = None,
        resolve_timeout_s: float = 5.0,
    ) -> None:
        import pylsl

        self.channels = channels
        if source_id:
            infos = [
                i
                for i in pylsl.resolve_byprop("source_id", source_id, timeout=resolve_timeout_s)
                if i.type() == stream_type
            ]
        else:
            infos = pylsl.resolve_byprop("type", stream_type, timeout=resolve_timeout_s)
        wanted = f"type={stream_type!r}" + (f", source_id={source_id!r}" if source_id else "")
        if not infos:
            raise LookupError(f"no LSL stream with {wanted} found within {resolve_timeout_s} s")
        if len(infos) > 1:
            ids = ", ".join(f"{i.name()} (source_id={i.source_id()!r})" for i in infos)
            raise LookupError(
                f"several LSL streams with {wanted}: {ids}; choose one with --source-id"
            )
        self.info = infos[0]
        label = f"LSL stream {self.info.name()!r} (source_id={self.info.source_id()!r})"
        self.description = label
        check_channel_count(self.info.channel_count(), channels, label)
        self.inlet: Any = pylsl.StreamInlet(
            self.info, max_buflen=30, processing_flags=pylsl.proc_clocksync | pylsl.proc_monotonize
        )
        try:
            # Resolved infos carry no <desc>; the inlet's full info has the channel metadata.
            self.full_info = self.inlet.info(timeout=resolve_timeout_s)
            self.channel_map: ChannelMap = stream_channel_map(self.full_info, channels)
            self.inlet.open_stream(timeout=resolve_timeout_s)
        except BaseException:
            self.close()
            raise

    def read(self, timeout_s: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
        """Wait up to ``timeout_s`` for new samples.

        Returns:
            (M,) LSL timestamps (seconds, local clock) and (M, C) samples in contract order/units.
        """
        samples, times = self.inlet.pull_chunk(
            timeout=timeout_s, max_samples=4096, min_samples=1, as_numpy=True
        )
        data = np.asarray(samples, dtype=np.float64).reshape(-1, len(self.channels))
        return np.asarray(times, dtype=np.float64), self.channel_map.apply(data)

    def close(self) -> None:
        """Close the inlet (idempotent)."""
        inlet, self.inlet = getattr(self, "inlet", None), None
        if inlet is not None:
            inlet.close_stream()

    def __enter__(self) -> LslImuSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
