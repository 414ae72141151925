"""Hostile checkpoints: sizes are bounded before torch allocates anything.

The hostile file is a real ``torch.save`` archive whose tensor storage entry is replaced by a
deflate stream of 1 GiB of zeros (~1 MB on disk) and whose pickle declares that size: an
unguarded ``torch.load`` expands it into memory (2 MB → 2.3 GB RSS measured at 2 GiB).
"""

from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import pytest
import torch

from comodo_live.training.checkpoint import (
    FORMAT_MARKER,
    MAX_CHECKPOINT_BYTES,
    CheckpointError,
    check_archive,
    load_checkpoint,
    save_checkpoint,
)

ROOT = Path(__file__).resolve().parents[2]
BOMB_BYTES = 1 << 30  # what the hostile storage expands to
_MARK = 0x00012345  # storage size of the template tensor, patched in the pickle
_BLOCK = 16 << 20


def _template_entries() -> list[tuple[str, bytes]]:
    buffer = io.BytesIO()
    state = {"x": torch.zeros(_MARK, dtype=torch.uint8)}  # (_MARK,) uint8: one storage entry
    torch.save({"format": FORMAT_MARKER, "version": 1, "kind": "session", "state": state}, buffer)
    archive = zipfile.ZipFile(buffer)
    return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _zeros_deflate(total: int) -> tuple[bytes, int]:
    """Raw deflate stream of ``total`` zero bytes and their CRC-32, built from one block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(_BLOCK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, zeros = 0, bytes(_BLOCK)
    for _ in range(total // _BLOCK):
        crc = zlib.crc32(zeros, crc)
    return block * (total // _BLOCK) + b"\x03\x00", crc  # final empty stored block


def _write_zip(path: Path, items: list[tuple[str, bytes, int, int, int]]) -> None:
    """A plain zip of (name, raw bytes, method, crc, uncompressed size) entries."""
    body, central = bytearray(), bytearray()
    for name, raw, method, crc, size in items:
        encoded, offset = name.encode(), len(body)
        body += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(raw), size, len(encoded), 0
        )
        body += encoded + raw
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(raw), size,
            len(encoded), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += encoded
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(items), len(items), len(central), len(body), 0
    )
    path.write_bytes(bytes(body + central + end))


def _hostile(path: Path, total: int = BOMB_BYTES, *, compressed: bool = True) -> Path:
    """A torch checkpoint whose storage declares ``total`` bytes: deflated zeros, or (not
    ``compressed``) a stored entry whose zip header alone claims ``total`` bytes."""
    items = []
    for name, data in _template_entries():
        if name.endswith("data.pkl"):
            old = b"J" + struct.pack("<i", _MARK)  # BININT of the storage (and tensor) size
            assert old in data, "torch's pickle layout changed; update the hostile builder"
            data = data.replace(old, b"J" + struct.pack("<i", total))
        if name.endswith("/data/0") and compressed:
            raw, crc = _zeros_deflate(total)
            items.append((name, raw, zipfile.ZIP_DEFLATED, crc, total))
        elif name.endswith("/data/0"):
            items.append((name, data, zipfile.ZIP_STORED, zlib.crc32(data), total))
        else:
            items.append((name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)))
    _write_zip(path, items)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _hostile(tmp_path_factory.mktemp("bomb") / "latest.pt")
    assert path.stat().st_size < 2 << 20  # ~1 MB on disk ...
    declared = sum(info.file_size for info in zipfile.ZipFile(path).infolist())
    assert declared > BOMB_BYTES  # ... declaring > 1 GiB
    return path


def test_check_archive__compressed_entry_refused_without_expanding(bomb: Path) -> None:
    started = time.monotonic()
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(bomb, "session")
    message = str(caught.value)
    assert time.monotonic() - started < 1.0
    assert str(bomb) in message and "compressed entry 'archive/data/0'" in message
    assert f"expanding to {BOMB_BYTES}" in message and "\n" not in message


def test_check_archive__bomb_costs_bounded_memory(bomb: Path) -> None:
    code = textwrap.dedent(
        f"""
        import resource
        from comodo_live.training.checkpoint import CheckpointError, load_checkpoint
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            load_checkpoint({str(bomb)!r}, "session")
            outcome = "loaded"
        except CheckpointError:
            outcome = "refused"
        print(outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    outcome, growth = result.stdout.split()
    growth_kib = int(growth)
    assert growth_kib < 200 * 1024, f"RSS grew {growth_kib} KiB loading the hostile file"
    assert outcome == "refused"


def test_check_archive__declared_huge_stored_entry_refused(tmp_path: Path) -> None:
    path = _hostile(tmp_path / "liar.pt", BOMB_BYTES, compressed=False)
    with pytest.raises(CheckpointError, match="declares 1073741824 bytes but stores"):
        load_checkpoint(path)


def test_check_archive__storage_larger_than_its_record_refused(tmp_path: Path) -> None:
    path = tmp_path / "big_claim.pt"
    entries = _template_entries()
    with zipfile.ZipFile(path, "w") as archive:  # stored, sizes honest; only the pickle lies
        for name, data in entries:
            if name.endswith("data.pkl"):
                data = data.replace(
                    b"J" + struct.pack("<i", _MARK), b"J" + struct.pack("<i", 1_500_000_000)
                )
            archive.writestr(name, data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=r"big_claim\.pt is corrupt"):
        load_checkpoint(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_check_archive__over_the_limit_names_size_and_limit(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "real.pt", {"w": torch.zeros(1000)}, "session")
    total = check_archive(path)
    assert 4000 < total < path.stat().st_size
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path, max_bytes=total - 1)
    assert str(caught.value) == (
        f"checkpoint {path} holds {total} bytes, above the limit of {total - 1} bytes; refused"
    )
    assert load_checkpoint(path, max_bytes=total)["w"].shape == (1000,)


def test_check_archive__symlink_refused(tmp_path: Path) -> None:
    real = save_checkpoint(tmp_path / "real.pt", {"step": 3}, "session")
    link = tmp_path / "link.pt"
    link.symlink_to(real)
    with pytest.raises(CheckpointError, match=r"link\.pt is a symbolic link"):
        load_checkpoint(link)
    dangling = tmp_path / "dangling.pt"
    dangling.symlink_to(tmp_path / "nowhere.pt")
    with pytest.raises(CheckpointError, match=r"dangling\.pt is a symbolic link"):
        load_checkpoint(dangling)


def test_check_archive__non_regular_files_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"is not a regular file"):
        load_checkpoint(tmp_path)
    fifo = tmp_path / "fifo.pt"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match=r"fifo\.pt is not a regular file"):
        load_checkpoint(fifo)  # would block forever if opened


def test_check_archive__limit_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes must be > 0, got 0"):
        check_archive(tmp_path / "x.pt", 0)


def test_load__genuine_checkpoint_loads_under_the_default_limit(tmp_path: Path) -> None:
    weights = torch.randn(256, 1024)  # (256, 1024) float32: 1 MiB
    path = save_checkpoint(tmp_path / "real.pt", {"w": weights, "step": 7}, "session")
    assert check_archive(path) < MAX_CHECKPOINT_BYTES
    state = load_checkpoint(path, "session")
    assert state["step"] == 7 and torch.equal(state["w"], weights)
    state["w"] += 1  # mapped copy-on-write: the file is untouched
    assert torch.equal(load_checkpoint(path)["w"], weights)


def test_export_cli__hostile_checkpoint_exit_2_one_line(bomb: Path, tmp_path: Path) -> None:
    session = tmp_path / "20260101-000000-session"
    (session / "checkpoints").mkdir(parents=True)
    (session / "checkpoints" / "latest.pt").write_bytes(bomb.read_bytes())
    command = [
        sys.executable, str(ROOT / "app.py"), "export", "--session", str(session),
        "--out", str(tmp_path / "package"), "--quiet",
    ]  # fmt: skip
    out, err, peak = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "peak.txt"
    # A child's ru_maxrss starts at its parent's RSS at fork (a long pytest run: > 1.5 GB), so a
    # small wrapper process starts the export and reports that child's own peak RSS.
    wrapper = (
        "import os, subprocess, sys\n"
        "child = subprocess.Popen(sys.argv[2:])\n"
        "_, status, usage = os.wait4(child.pid, 0)\n"
        "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    with out.open("w") as stdout_file, err.open("w") as stderr_file:
        child = subprocess.run(
            [sys.executable, "-c", wrapper, str(peak), *command],
            cwd=ROOT, stdout=stdout_file, stderr=stderr_file, timeout=120,
        )  # fmt: skip
    stdout, stderr = out.read_text(), err.read_text()
    assert child.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("error: checkpoint ") and "compressed entry" in lines[0]
    assert stdout == "" and not (tmp_path / "package").exists()
    maxrss = int(peak.read_text())  # KiB
    assert maxrss < 600 * 1024, f"export peaked at {maxrss} KiB"
