"""Stream metadata straight from an XDF file's StreamHeader chunks, copied onto new LSL outlets.

pyxdf parses each stream header into nested dicts, which loses the order of mixed child
elements; the replayer copies the original XML instead, read here from the file's chunks.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pylsl

from comodo_live.streams.resolve import CHANNEL_FORMATS

_TAG_STREAM_HEADER = 2


def read_stream_headers(path: Path) -> dict[int, str]:
    """Every StreamHeader's XML by stream id (skips other chunks; tolerates a truncated end)."""
    headers: dict[int, str] = {}
    with Path(path).open("rb") as f:
        if f.read(4) != b"XDF:":
            raise ValueError(f"{path} is not an XDF file (no 'XDF:' magic)")
        while True:
            n_bytes = f.read(1)
            if not n_bytes:
                break
            width = n_bytes[0]
            if width not in (1, 4, 8):
                break  # corrupt or cut: keep what was read
            raw_len = f.read(width)
            if len(raw_len) < width:
                break
            length = int.from_bytes(raw_len, "little")
            tag_bytes = f.read(2)
            if len(tag_bytes) < 2 or length < 2:
                break
            tag = struct.unpack("<H", tag_bytes)[0]
            if tag == _TAG_STREAM_HEADER:
                content = f.read(length - 2)
                if len(content) < length - 2:
                    break
                (stream_id,) = struct.unpack("<I", content[:4])
                headers[stream_id] = content[4:].decode("utf-8", errors="replace")
            else:
                f.seek(length - 2, 1)
    return headers


def _copy_children(source: ET.Element, target: pylsl.XMLElement) -> None:
    for child in source:
        if len(child):
            _copy_children(child, target.append_child(child.tag))
        else:
            target.append_child_value(child.tag, (child.text or "").strip())


def stream_info_from_xml(xml: str, source_id: str) -> pylsl.StreamInfo:
    """A new StreamInfo with the header's name, type, format, rate and full ``desc``.

    Args:
        xml: a StreamHeader's XML (``<info>...</info>``).
        source_id: the source id for the new outlet.

    Raises:
        ValueError: the header lacks a field or names an unknown channel format.
    """
    root = ET.fromstring(xml)

    def field(tag: str, default: str | None = None) -> str:
        node = root.find(tag)
        if node is None or node.text is None:
            if default is None:
                raise ValueError(f"stream header has no <{tag}>: {xml[:200]!r}")
            return default
        return node.text.strip()

    fmt_name = field("channel_format")
    if fmt_name not in CHANNEL_FORMATS:
        raise ValueError(f"channel_format {fmt_name!r} is not one of {sorted(CHANNEL_FORMATS)}")
    info = pylsl.StreamInfo(
        field("name", "unnamed"),
        field("type", ""),
        int(field("channel_count")),
        float(field("nominal_srate", "0")),
        CHANNEL_FORMATS[fmt_name],
        source_id,
    )
    desc = root.find("desc")
    if desc is not None:
        _copy_children(desc, info.desc())
    return info


def desc_text(xml: str, *paths: str) -> str | None:
    """The text of the first of ``paths`` (relative to ``desc``, e.g. ``"video_file"``) found."""
    root = ET.fromstring(xml)
    for path in paths:
        node = root.find(f"desc/{path}")
        if node is not None and node.text and node.text.strip():
            return node.text.strip()
    return None
