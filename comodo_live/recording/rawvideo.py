"""Video carried over LSL as raw pixels (the XDF ``VideoRaw`` convention) → teacher frames.

A raw video stream has one channel per pixel component of one frame: ``channel_count = width ×
height × components``, format ``int8`` (bytes; viewed as uint8) or ``int16`` (0..255, or
0..65535 scaled down), one sample per frame, type ``VideoRaw`` (LabRecorder users, other lab
tools) or ``Video`` (the project's own ``--video-over-lsl``). The frame size comes from the
stream's ``desc``: ``width`` / ``height`` (also ``frame_width`` / ``frame_height``, or
``resolution = WxH``) and ``components`` (also ``channels`` / ``color_channels``; default
``channel_count / (width × height)``); pixels are rows of ``width`` pixels of ``components``
bytes (HWC, row-major). ``color_format`` / ``pixel_format`` naming ``BGR`` swaps red and blue;
one component is grey, a fourth is alpha (dropped).

Frames are downscaled (``INTER_AREA``) to the teacher size and handed over as RGB uint8, like
the local camera's; the replay never re-publishes them on LSL (:class:`RawFrameServer` serves
them on the local frame bus only).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pylsl

from comodo_live.recording.bus_server import BusFrameServer
from comodo_live.recording.track import Track
from comodo_live.streams.frames import drop_frame_bus, frame_bus

logger = logging.getLogger(__name__)

VIDEO_TYPES = ("videoraw", "video")  # stream types (lower case) that carry raw frames
COMPRESSED_TYPES = ("videocompressed", "videojpeg", "video", "videoraw")  # … base64 strings
COMPRESSED = "jpeg-base64"  # RawVideoSpec.dtype of a compressed (string) stream
MIN_PIXELS = 16 * 16  # a numeric stream with fewer channels is never taken for video
_WIDTH = ("width", "frame_width", "image_width", "cols")
_HEIGHT = ("height", "frame_height", "image_height", "rows")
_COMPONENTS = ("components", "channels", "color_channels", "num_channels", "depth")
_COLOR = ("color_format", "colorformat", "pixel_format", "pixelformat", "layout", "encoding")


@dataclass(frozen=True)
class RawVideoSpec:
    """Geometry of a raw video stream's frames.

    Attributes:
        width, height: pixels; components: 1 (grey), 3 (RGB/BGR) or 4 (with alpha).
        bgr: the components are blue-green-red; dtype: ``"int8"`` or ``"int16"``.
    """

    width: int
    height: int
    components: int
    bgr: bool
    dtype: str


def _desc_values(xml: str) -> dict[str, str]:
    """Lower-case tag → text of every leaf under ``desc`` (the first of each tag)."""
    if not xml:
        return {}
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return {}
    desc = root.find("desc")
    values: dict[str, str] = {}
    for node in desc.iter() if desc is not None else ():
        if node.text and node.text.strip() and not len(node):
            values.setdefault(node.tag.lower(), node.text.strip())
    return values


def is_raw_video(stream_type: str, channel_format: str, channel_count: int) -> bool:
    """Whether a stream carries raw frames: a video type, or many int8/int16 channels."""
    if channel_format not in ("int8", "int16") or channel_count < MIN_PIXELS:
        return False
    return stream_type.strip().lower() in VIDEO_TYPES or channel_count > 1024


def is_compressed_video(stream_type: str, channel_format: str, channel_count: int) -> bool:
    """Whether a stream carries base64 JPEG (or PNG) strings: one string channel of a video
    type (``VideoCompressed``, ``VideoJPEG``, ``Video``, ``VideoRaw``)."""
    return (
        channel_format == "string"
        and channel_count == 1
        and stream_type.strip().lower() in COMPRESSED_TYPES
    )


def raw_video_spec(
    name: str, stream_type: str, channel_format: str, channel_count: int, xml: str
) -> RawVideoSpec | None:
    """The frame geometry of a raw video stream; None for a stream that is not raw video.

    Raises:
        ValueError: a raw video stream whose ``desc`` does not give a frame size matching its
            channel count (the message names the stream and what was found).
    """
    if is_compressed_video(stream_type, channel_format, channel_count):
        return RawVideoSpec(0, 0, 3, False, COMPRESSED)  # size: from each decoded image
    if not is_raw_video(stream_type, channel_format, channel_count):
        return None
    desc = _desc_values(xml)

    def number(keys: tuple[str, ...]) -> int | None:
        for key in keys:
            if key in desc and re.fullmatch(r"\d+", desc[key]):
                return int(desc[key])
        return None

    width, height = number(_WIDTH), number(_HEIGHT)
    if (width is None or height is None) and "resolution" in desc:
        found = re.fullmatch(r"(\d+)\s*[xX×*,]\s*(\d+)", desc["resolution"])
        if found:
            width, height = int(found.group(1)), int(found.group(2))
    where = f"video stream {name!r} ({stream_type}, {channel_count} x {channel_format})"
    if not width or not height:
        raise ValueError(
            f"{where}: no frame size in its desc (width/height or resolution=WxH); found "
            f"{sorted(desc)}"
        )
    components = number(_COMPONENTS) or channel_count // (width * height)
    if components not in (1, 3, 4) or width * height * components != channel_count:
        raise ValueError(
            f"{where}: width {width} x height {height} x components {components} must equal "
            f"the channel count {channel_count} with 1, 3 or 4 components"
        )
    color = next((desc[k].lower() for k in _COLOR if k in desc), "")
    return RawVideoSpec(width, height, components, "bgr" in color, channel_format)


def decode_frame(sample: np.ndarray, spec: RawVideoSpec, size: tuple[int, int]) -> np.ndarray:
    """One (C,) raw sample → (h, w, 3) uint8 RGB at ``size = (w, h)``."""
    if spec.dtype == COMPRESSED:
        return _decode_compressed(sample, size)
    values = np.asarray(sample)
    if spec.dtype == "int16":
        wide = values.astype(np.int32) & 0xFFFF  # (C,) 0..65535
        pixels = (wide if wide.max(initial=0) <= 255 else wide >> 8).astype(np.uint8)
    else:
        pixels = values.astype(np.int8, copy=False).view(np.uint8)
    image = pixels.reshape(spec.height, spec.width, spec.components)
    if spec.components == 1:
        image = np.repeat(image, 3, axis=2)
    elif spec.components == 4:
        image = image[:, :, :3]
    if spec.bgr:
        image = image[:, :, ::-1]
    small = cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small)  # (h, w, 3) RGB


def _decode_compressed(sample: object, size: tuple[int, int]) -> np.ndarray:
    """One base64 JPEG/PNG string sample → (h, w, 3) uint8 RGB at ``size``.

    Raises:
        ValueError: not base64, or not an image OpenCV decodes.
    """
    text = sample if isinstance(sample, str) else str(np.asarray(sample).reshape(-1)[0])
    try:
        data = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"video sample is not base64: {exc}") from None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # (H, W, 3) BGR
    if image is None:
        raise ValueError(f"video sample ({len(data)} bytes) is not a JPEG/PNG image")
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small[:, :, ::-1])  # (h, w, 3) RGB


def track_spec(track: Track) -> RawVideoSpec | None:
    """:func:`raw_video_spec` of a replay track; None (with a warning that says why) for a raw
    video track without a usable frame size."""
    try:
        return raw_video_spec(
            track.name, track.type, track.channel_format, track.channel_count, track.xml
        )
    except ValueError as exc:
        logger.warning("%s: its frames are not served", exc)
        return None


class RawFrameServer(BusFrameServer):
    """Publishes a raw video track's frames on the local frame bus when each one is due.

    The raw-video twin of :class:`~comodo_live.recording.frameserver.FrameServer` (same
    interface: :meth:`start_at`, :meth:`set_camera`, ``stop()``): decodes and downscales each
    sample and publishes it on :func:`frame_bus` of the track's replay source id, stamped with
    its replayed LSL time. Frames more than ``max_late_s`` late are skipped (counted).

    Args:
        track: the raw video track.
        spec: its frame geometry.
        period_s: one replay pass, seconds (for ``loop``).
        loop: follow the player's passes.
        frame_size: (width, height) of published frames.
        max_late_s: frames later than this are skipped, seconds.
    """

    def __init__(
        self,
        track: Track,
        spec: RawVideoSpec,
        period_s: float,
        loop: bool,
        frame_size: tuple[int, int],
        max_late_s: float = 0.5,
    ) -> None:
        super().__init__("replay-raw-frames")
        self.track = track
        self.spec = spec
        self.source_id = track.source_id
        self._period = period_s
        self.loop = loop
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.max_late_s = max_late_s
        self.bus = frame_bus(self.source_id)
        self._camera_on = True
        self._t0 = 0.0
        self.published = 0
        self.skipped_late = 0
        self.decode_errors = 0

    def _open(self) -> None:
        self.bus = frame_bus(self.source_id)

    def _close(self) -> None:
        self.bus.clear()
        drop_frame_bus(self.source_id)

    def _loop(self) -> None:
        pass_t0 = self._t0
        offsets = self.track.offsets.tolist()
        while not self._stop_event.is_set():
            for k, offset in enumerate(offsets):
                due = pass_t0 + offset
                if not self._wait_until(due):
                    return
                if not self._camera_on:
                    continue
                if pylsl.local_clock() - due > self.max_late_s:
                    self.skipped_late += 1
                    continue
                try:
                    rgb = decode_frame(self.track.data[k], self.spec, self.frame_size)
                except ValueError:
                    self.decode_errors += 1
                    continue
                self.bus.publish(k, due, rgb)
                self.published += 1
            if not self.loop:
                return
            pass_t0 += self._period


@dataclass(frozen=True)
class RawVideo:
    """A recorded raw video stream: ``times`` (F,) s and ``data`` (F, C) raw samples."""

    name: str
    spec: RawVideoSpec
    times: np.ndarray
    data: np.ndarray


def find_raw_video(streams: list[dict[str, Any]], headers: dict[int, str]) -> RawVideo | None:
    """The first raw video stream with samples of a ``pyxdf.load_xdf`` result, or None.

    Args:
        streams: pyxdf's streams; headers: stream id → header XML
            (:func:`~comodo_live.recording.xdfmeta.read_stream_headers`).

    A raw video stream without a usable frame size (see :func:`raw_video_spec`) is skipped
    with a warning that says why.
    """
    for stream in streams:
        info = stream["info"]

        def field(key: str, info: dict[str, Any] = info) -> str:
            return str((info.get(key) or [""])[0] or "")

        if not len(stream["time_stamps"]):
            continue
        xml = headers.get(int(info.get("stream_id", -1)), "")
        try:
            spec = raw_video_spec(
                field("name"),
                field("type"),
                field("channel_format"),
                int(field("channel_count") or 0),
                xml,
            )
        except ValueError as exc:
            logger.warning("%s: its frames are not used", exc)
            continue
        if spec is not None:
            times = np.asarray(stream["time_stamps"], np.float64).reshape(-1)  # (F,)
            order = np.argsort(times, kind="stable")
            data = np.asarray(stream["time_series"]).reshape(len(times), -1)[order]  # (F, C)
            return RawVideo(field("name"), spec, times[order], data)
    return None


class RecordedRawFrames:
    """Fast replay's frames from a raw video stream: each frame published on ``bus`` at its
    recorded time (the interface of fast replay's ``RecordedFrames``)."""

    def __init__(self, video: RawVideo, bus: Any, size: tuple[int, int]) -> None:
        self.video = video
        self.bus = bus
        self.size = (int(size[0]), int(size[1]))
        self.cursor = 0
        self.published = 0
        self.decode_errors = 0

    def feed_until(self, t: float) -> None:
        end = int(np.searchsorted(self.video.times, t, side="right"))
        while self.cursor < end:
            k = self.cursor
            self.cursor += 1
            try:
                rgb = decode_frame(self.video.data[k], self.video.spec, self.size)
            except ValueError:
                self.decode_errors += 1
                continue
            self.bus.publish(k, float(self.video.times[k]), rgb)
            self.published += 1

    def close(self) -> None:
        """Nothing to release (the frames are in memory)."""
