"""Cut an XDF file after its last whole chunk: a recording the disk filled up mid-write.

An XDF file is ``XDF:`` followed by chunks ``[NumLengthBytes (1, 4 or 8)][Length][Tag][Content]``
where ``Length`` counts the tag and content bytes. When the disk fills while LabRecorder writes,
the file ends inside a chunk; pyxdf skips a cut samples chunk but refuses a cut XML chunk (a
stream footer: ``ParseError``). Truncating after the last whole chunk frees space rather than
needing any, so it works on a full disk, and the file then loads with everything written before.
"""

from __future__ import annotations

from pathlib import Path

MAGIC = b"XDF:"
_LENGTH_BYTES = (1, 4, 8)


def whole_chunks_end(path: Path) -> int:
    """Byte offset just after the last whole chunk of ``path`` (0: not an XDF file)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            return 0
        end = len(MAGIC)
        while True:
            head = f.read(1)
            if not head or head[0] not in _LENGTH_BYTES:
                return end
            raw = f.read(head[0])
            if len(raw) < head[0]:
                return end
            chunk_end = end + 1 + head[0] + int.from_bytes(raw, "little")
            if chunk_end > size:
                return end
            f.seek(chunk_end)
            end = chunk_end


def cut_after_last_chunk(path: Path) -> int:
    """Truncate ``path`` after its last whole chunk; returns the bytes removed (0: it was whole,
    or is not an XDF file)."""
    end = whole_chunks_end(path)
    size = path.stat().st_size
    if end == 0 or end >= size:
        return 0
    with path.open("r+b") as f:
        f.truncate(end)
    return size - end
