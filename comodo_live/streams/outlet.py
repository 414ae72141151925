"""LSL outlet metadata shared by the engine's own streams and the drivers: one
:func:`make_stream_info` writing XDF channel metadata (label, unit, type) and acquisition info."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pylsl


def make_stream_info(
    name: str,
    stream_type: str,
    source_id: str,
    *,
    rate_hz: float,
    channel_format: int,
    labels: Sequence[str],
    units: Sequence[str] | None = None,
    channel_types: Sequence[str] | None = None,
    meta: Mapping[str, object] | None = None,
) -> pylsl.StreamInfo:
    """A StreamInfo with XDF channel metadata (``desc/channels/channel``: label, unit, type).

    Args:
        name: stream name.
        stream_type: LSL content type (see :mod:`comodo_live.streams.names`).
        source_id: unique source id; readers resolve by it.
        rate_hz: nominal sampling rate in Hz (0 for irregular streams).
        channel_format: a pylsl ``cf_*`` constant.
        labels: one label per channel.
        units: one unit per channel (same length as ``labels``), or None.
        channel_types: one type per channel, or None (the stream type is used).
        meta: extra ``desc/<key>`` text entries (values are converted with ``str``).
    """
    if not source_id:
        raise ValueError(f"source_id must be a non-empty string, got {source_id!r}")
    if not (rate_hz >= 0 and math.isfinite(rate_hz)):
        raise ValueError(f"rate_hz must be finite and >= 0, got {rate_hz}")
    n = len(labels)
    if n < 1:
        raise ValueError("labels must name at least one channel")
    for arg, values in (("units", units), ("channel_types", channel_types)):
        if values is not None and len(values) != n:
            raise ValueError(f"{arg} must have {n} entries (one per label), got {len(values)}")
    info = pylsl.StreamInfo(name, stream_type, n, rate_hz, channel_format, source_id)
    desc = info.desc()
    channels = desc.append_child("channels")
    for i, label in enumerate(labels):
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        if units is not None:
            channel.append_child_value("unit", units[i])
        channel.append_child_value("type", channel_types[i] if channel_types else stream_type)
    acquisition = desc.append_child("acquisition")
    acquisition.append_child_value("manufacturer", "comodo-live")
    acquisition.append_child_value("model", name)
    for key, value in (meta or {}).items():
        desc.append_child_value(key, str(value))
    return info
