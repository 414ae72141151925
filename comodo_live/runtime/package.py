"""The exported model package: file names, manifest, preprocessing contract and validation.

Torch-free (numpy and the standard library only): the standalone runtime and the app's importer
both validate packages through :func:`open_package`. A package is a folder::

    manifest.json        format, versions, SHA-256 + size of every other file, parity report
    model.onnx           raw IMU (B, 6, N) → embedding (B, E), logits (B, K), probabilities (B, K)
    model.torchscript.pt the same graph as TorchScript (needs torch to run; optional for consumers)
    preprocessing.json   channel order, units, rate, window, normalisation, resampling
    classifier.json      activity names and the head's formula; arrays in classifier.npz
    classifier.npz       coef (K, E), intercept (K,), feature_mean/std (E,), anchors (K, E), ...
    student.json/.npz    student config and EMA weights as plain arrays (to continue personalising)
    reference.npz        input windows with the expected outputs (self-test)
    model_card.md        how the model was made

What the manifest's SHA-256 hashes guarantee: every file is the one the exporter wrote, *or* the
package was changed by someone who also rewrote the manifest. They catch accidental corruption
(truncated copies, bit flips, a file swapped for another package's) — integrity — but not
deliberate changes: anyone can re-hash a modified package. They are not signatures
(authenticity): load packages only from sources you trust.

Hostile input is bounded before anything is allocated: files must be regular files inside the
folder (symlinks, devices and folders are refused), JSON files at most ``MAX_JSON_BYTES`` and
``MAX_JSON_DEPTH`` levels deep, every package file at most ``MAX_FILE_BYTES``; ``.npz`` arrays
are checked from the zip directory and each ``.npy`` header (declared sizes, dtype, shape
matching the member's real size) before numpy reads them; activity names are printable text.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live import signal as antialias
from comodo_live.records import IMU_CHANNELS, IMU_UNITS

PACKAGE_FORMAT = "comodo-live-imu-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ONNX_FILE = "model.onnx"
INT8_ONNX_FILE = "model_int8.onnx"  # optional (export --int8): dynamically quantised twin
TORCHSCRIPT_FILE = "model.torchscript.pt"
PREPROCESSING_FILE = "preprocessing.json"
CLASSIFIER_JSON = "classifier.json"
CLASSIFIER_NPZ = "classifier.npz"
STUDENT_JSON = "student.json"
STUDENT_NPZ = "student.npz"
REFERENCE_NPZ = "reference.npz"
MODEL_CARD = "model_card.md"
REQUIRED_FILES = (ONNX_FILE, PREPROCESSING_FILE, CLASSIFIER_JSON, CLASSIFIER_NPZ, REFERENCE_NPZ)
INPUT_NAME = "imu"
OUTPUT_NAMES = ("embedding", "logits", "probabilities")
MAX_FILE_BYTES = 256 * 2**20  # any package file (a 0.5 M-parameter model is ~2 MB)
MAX_JSON_BYTES = 2**20
MAX_JSON_DEPTH = 32  # nesting levels of a JSON document
MAX_NPZ_BYTES = 512 * 2**20  # all arrays of one .npz, uncompressed
MAX_ACTIVITIES = 100
MAX_ACTIVITY_CHARS = 64
MAX_WINDOW_SAMPLES = 1_000_000


class PackageError(ValueError):
    """A package that is missing, tampered with, foreign or incompatible."""


@dataclass(frozen=True)
class Preprocessing:
    """How raw IMU samples become one model input window (the consumer's contract).

    Attributes:
        channels: row order of the input, e.g. ``("accel_x", ..., "gyro_z")``.
        units: unit of each row (``"m/s^2"``, ``"rad/s"``); convert g → ×9.80665, deg/s → ×π/180.
        rate_hz: nominal sampling rate, Hz; resample onto this grid, low-pass filtered first
            when the input is faster (:func:`comodo_live.signal.resample`).
        window_samples: N, samples per window at ``rate_hz``.
        hop_s: seconds between successive predictions in the app.
        channel_mean: per-channel mean subtracted inside the graph, in ``units``.
        channel_std: per-channel std divided inside the graph, in ``units``.
    """

    channels: tuple[str, ...]
    units: tuple[str, ...]
    rate_hz: float
    window_samples: int
    hop_s: float
    channel_mean: tuple[float, ...]
    channel_std: tuple[float, ...]

    @property
    def window_s(self) -> float:
        """Window length in seconds (``window_samples / rate_hz``)."""
        return self.window_samples / self.rate_hz

    def __post_init__(self) -> None:
        count = len(self.channels)
        for name in ("units", "channel_mean", "channel_std"):
            if len(getattr(self, name)) != count:
                raise PackageError(
                    f"preprocessing.{name} must have one entry per channel ({count}), "
                    f"found {len(getattr(self, name))}"
                )
        if not self.rate_hz > 0:
            raise PackageError(f"preprocessing.rate_hz must be > 0, found {self.rate_hz!r}")
        if int(self.window_samples) != self.window_samples or self.window_samples < 1:
            raise PackageError(
                f"preprocessing.window_samples must be an integer >= 1, found {self.window_samples!r}"
            )
        if not self.hop_s > 0:
            raise PackageError(f"preprocessing.hop_s must be > 0, found {self.hop_s!r}")
        if self.window_samples > MAX_WINDOW_SAMPLES or not math.isfinite(self.rate_hz):
            raise PackageError(
                f"preprocessing: window_samples must be <= {MAX_WINDOW_SAMPLES} and rate_hz "
                f"finite, found {self.window_samples!r} and {self.rate_hz!r}"
            )
        if not all(math.isfinite(v) for v in (*self.channel_mean, *self.channel_std)):
            raise PackageError("preprocessing.channel_mean/channel_std must be finite numbers")
        if any(not s > 0 for s in self.channel_std):
            raise PackageError(f"preprocessing.channel_std must be > 0, found {self.channel_std}")

    def to_json(self) -> dict[str, Any]:
        """The ``preprocessing.json`` document (values plus a plain-language description)."""
        return {
            "channels": list(self.channels),
            "units": list(self.units),
            "rate_hz": self.rate_hz,
            "window_samples": self.window_samples,
            "window_s": self.window_s,
            "hop_s": self.hop_s,
            "layout": "float32 array (batch, channels, window_samples), rows in `channels` order",
            "resampling": (
                "each channel onto a uniform grid at rate_hz; a window is the window_samples grid "
                "points ending at the window's last sample time. Input faster than "
                "1.05 x rate_hz is low-passed first (anti-aliasing): every grid point is the "
                "samples within 10/rate_hz s of it weighted by a Kaiser-windowed sinc (beta 5, "
                "cutoff rate_hz/2, weights normalised to sum 1; odd reflection about the first/"
                "last sample where data end), the filter of scipy.signal.resample_poly; slower "
                "input is linearly interpolated. comodo_live.signal.resample implements it in numpy"
            ),
            "antialias": {
                "filter": "kaiser_windowed_sinc",
                "kaiser_beta": antialias.KAISER_BETA,
                "cutoff_hz": self.rate_hz / 2,
                "half_length_s": antialias.half_length_s(self.rate_hz),
                "applied_above_hz": antialias.LOWPASS_ABOVE_RATIO * self.rate_hz,
            },
            "normalisation": {
                "in_graph": True,
                "formula": "(x - channel_mean[c]) / channel_std[c] per channel c, done by the model",
                "channel_mean": list(self.channel_mean),
                "channel_std": list(self.channel_std),
            },
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Preprocessing:
        """Parse ``preprocessing.json``; raises :class:`PackageError` naming the bad field."""
        try:
            norm = doc["normalisation"]
            return cls(
                channels=tuple(str(c) for c in doc["channels"]),
                units=tuple(str(u) for u in doc["units"]),
                rate_hz=float(doc["rate_hz"]),
                window_samples=int(doc["window_samples"]),
                hop_s=float(doc["hop_s"]),
                channel_mean=tuple(float(v) for v in norm["channel_mean"]),
                channel_std=tuple(float(v) for v in norm["channel_std"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            if isinstance(exc, PackageError):
                raise
            raise PackageError(f"{PREPROCESSING_FILE} is malformed: {exc!r}") from exc


@dataclass(frozen=True)
class ModelPackage:
    """A validated package folder.

    Attributes:
        root: the package folder.
        manifest: the parsed ``manifest.json``.
        preprocessing: the input contract.
        activities: K activity names, in logit order.
        unknown_threshold: smoothed confidence below which the label is ``"unknown"``, [0, 1].
        smoothing_alpha: weight of the newest window in the probability EMA, (0, 1].
    """

    root: Path
    manifest: dict[str, Any]
    preprocessing: Preprocessing
    activities: tuple[str, ...]
    unknown_threshold: float
    smoothing_alpha: float

    def path(self, name: str) -> Path:
        """Path of a package file listed in the manifest."""
        return self.root / name


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> int:
    """Size of ``path`` if it is a regular file (not a symlink) of at most ``limit`` bytes.

    Raises:
        PackageError: missing, a symlink, not a regular file, or too large.
    """
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise PackageError(f"{path.name} is missing from {path.parent}: {exc.strerror}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise PackageError(f"{path.name} is a symbolic link; a package holds only regular files")
    if not stat.S_ISREG(info.st_mode):
        raise PackageError(f"{path.name} is not a regular file; a package holds only regular files")
    if info.st_size > limit:
        raise PackageError(f"{path.name} is {info.st_size} bytes; at most {limit} are accepted")
    return info.st_size


def _depth(doc: Any) -> int:
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)
    return deepest


def read_json(path: Path) -> dict[str, Any]:
    """A package's JSON object, bounded in size and nesting.

    Raises:
        PackageError: not a regular file, larger than ``MAX_JSON_BYTES``, not JSON, nested
            deeper than ``MAX_JSON_DEPTH`` or not an object.
    """
    regular_file(path, MAX_JSON_BYTES)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError as exc:
        raise PackageError(
            f"{path.name} is nested deeper than {MAX_JSON_DEPTH} levels; refused"
        ) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PackageError(f"{path.name} is not readable JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise PackageError(f"{path.name} must hold a JSON object, found {type(doc).__name__}")
    if _depth(doc) > MAX_JSON_DEPTH:
        raise PackageError(f"{path.name} is nested deeper than {MAX_JSON_DEPTH} levels; refused")
    return doc


def load_npz(path: Path, limit: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """Plain numeric arrays of a package ``.npz``, sizes checked before anything is allocated.

    The zip directory's declared sizes (which bound what decompression may produce) must sum to
    at most ``limit``; each member's ``.npy`` header must declare a plain numeric dtype and a
    shape whose bytes fit in the member. Nothing is unpickled.

    Raises:
        PackageError: naming the file and member, what was declared and what is allowed.
    """
    regular_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if total > limit:
                raise PackageError(
                    f"{path.name} would decompress to {total} bytes; at most {limit} are accepted"
                )
            for member in members:
                _check_npy_header(path.name, archive, member)
        with np.load(path, allow_pickle=False) as data:
            return {key: np.array(data[key]) for key in data.files}
    except PackageError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise PackageError(f"{path.name} is not a plain-array .npz file: {exc}") from exc


def _check_npy_header(name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    where = f"{name}:{member.filename}"
    if not member.filename.endswith(".npy") or member.is_dir():
        raise PackageError(f"{where} is not an .npy array")
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version in ((2, 0), (3, 0)):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise PackageError(f"{where}: unsupported .npy version {version}")
    if dtype.hasobject or dtype.kind not in "biuf":
        raise PackageError(f"{where}: dtype {dtype} refused; only plain numbers are accepted")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > member.file_size:
        raise PackageError(
            f"{where}: header declares shape {shape} ({nbytes} bytes) but the member holds "
            f"{member.file_size} bytes"
        )


def check_activities(activities: Any) -> tuple[str, ...]:
    """Activity names of a package: 1..``MAX_ACTIVITIES`` unique printable strings of at most
    ``MAX_ACTIVITY_CHARS`` characters (they are printed and shown as text)."""
    if not isinstance(activities, list) or not activities:
        raise PackageError(f"{CLASSIFIER_JSON}: 'activities' must be a non-empty list")
    if len(activities) > MAX_ACTIVITIES:
        raise PackageError(
            f"{CLASSIFIER_JSON}: {len(activities)} activities; at most {MAX_ACTIVITIES}"
        )
    for i, name in enumerate(activities):
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name) > MAX_ACTIVITY_CHARS
            or not name.isprintable()
        ):
            shown = ascii(name)[: MAX_ACTIVITY_CHARS + 2]
            raise PackageError(
                f"{CLASSIFIER_JSON}: activity {i} = {shown} must be printable text of 1.."
                f"{MAX_ACTIVITY_CHARS} characters"
            )
    if len(set(activities)) != len(activities):
        raise PackageError(f"{CLASSIFIER_JSON}: activity names must be unique")
    return tuple(activities)


def check_files(root: Path, manifest: dict[str, Any]) -> None:
    """Check every file listed in the manifest: present, same size and same SHA-256."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise PackageError(f"{MANIFEST} lists no files (field 'files' missing or empty)")
    for name in REQUIRED_FILES:
        if name not in files:
            raise PackageError(f"{MANIFEST} does not list required file {name!r}")
    for name, entry in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise PackageError(f"{MANIFEST} lists {name!r}: only plain file names are allowed")
        if not isinstance(entry, dict):
            raise PackageError(
                f"{MANIFEST}: the entry of {name!r} must be an object with 'bytes' and "
                f"'sha256', found {type(entry).__name__}"
            )
        path = root / name
        if not os.path.lexists(path):
            raise PackageError(f"{name} is listed in {MANIFEST} but missing from {root}")
        size = regular_file(path)
        if size != entry.get("bytes"):
            raise PackageError(
                f"{name} was modified: expected {entry.get('bytes')} bytes, found {size} bytes"
            )
        found = sha256_file(path)
        if found != entry.get("sha256"):
            raise PackageError(
                f"{name} was modified: expected SHA-256 {entry.get('sha256')}, found {found}"
            )


def check_channel_contract(pre: Preprocessing) -> None:
    """Refuse a package whose input is not comodo-live's 6-channel IMU contract."""
    if len(pre.channels) != len(IMU_CHANNELS):
        raise PackageError(
            f"{PREPROCESSING_FILE}: model expects {len(pre.channels)} channels {list(pre.channels)}; "
            f"this app needs {len(IMU_CHANNELS)} channels {list(IMU_CHANNELS)}"
        )
    if pre.channels != IMU_CHANNELS or pre.units != IMU_UNITS:
        raise PackageError(
            f"{PREPROCESSING_FILE}: expected channels {list(IMU_CHANNELS)} in units "
            f"{list(IMU_UNITS)}, found channels {list(pre.channels)} in units {list(pre.units)}"
        )


def open_package(root: str | Path) -> ModelPackage:
    """Validate a package folder and read its contract.

    Checks, in order: the manifest exists and names this format and a supported version; every
    listed file is present with its recorded size and SHA-256; the preprocessing contract is
    comodo-live's 6-channel IMU contract; the classifier names K activities.

    Raises:
        PackageError: naming the file, what was expected and what was found.
    """
    root = Path(root)
    if not root.is_dir():
        raise PackageError(f"model package folder {root} does not exist")
    if not os.path.lexists(root / MANIFEST):
        raise PackageError(f"{root} is not a comodo-live model package: {MANIFEST} is missing")
    manifest = read_json(root / MANIFEST)
    if manifest.get("format") != PACKAGE_FORMAT:
        raise PackageError(
            f"{MANIFEST}: foreign package format {manifest.get('format')!r}, "
            f"expected {PACKAGE_FORMAT!r}"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise PackageError(
            f"{MANIFEST}: incompatible format_version {version!r}, this comodo-live reads "
            f"1..{FORMAT_VERSION}"
        )
    check_files(root, manifest)
    pre = Preprocessing.from_json(read_json(root / PREPROCESSING_FILE))
    check_channel_contract(pre)
    classifier = read_json(root / CLASSIFIER_JSON)
    activities = check_activities(classifier.get("activities"))
    try:
        threshold = float(classifier.get("unknown_threshold", 0.0))
        alpha = float(classifier.get("smoothing_alpha", 1.0))
    except (TypeError, ValueError) as exc:
        raise PackageError(f"{CLASSIFIER_JSON}: threshold/smoothing not numbers: {exc}") from exc
    if not (0.0 <= threshold <= 1.0 and 0.0 < alpha <= 1.0):
        raise PackageError(
            f"{CLASSIFIER_JSON}: unknown_threshold must be in [0, 1] and smoothing_alpha in "
            f"(0, 1], found {threshold!r} and {alpha!r}"
        )
    return ModelPackage(
        root=root,
        manifest=manifest,
        preprocessing=pre,
        activities=activities,
        unknown_threshold=threshold,
        smoothing_alpha=alpha,
    )
