"""Rendered egocentric scenes for the synthetic session, one per activity, driven by head pose.

Each activity has its own world: a park path (walking), an athletics track (running), a road
seen over handlebars (cycling), a desk with a laptop (sitting), a room with a waving hand
(waving). A frame is a static upper part (sky/wall) plus a perspective ground plane that
scrolls with the distance travelled (forward optical flow), drawn on a canvas with a margin and
then rotated/translated by the head's roll, yaw and pitch (the same pose that drives the IMU).
Textures are periodic 1/f noise, generated once per activity from the seed; per segment the
brightness changes. Cost: ~1-2 ms per 320x240 frame on one core.
"""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np
import pylsl

from .frame_sources import FrameSource
from .synthetic_motion import PROFILES, Pose, SyntheticMotion

_TEX = 256  # ground texture size, pixels (periodic)
_PPM = 32.0  # ground texture pixels per metre
_Z_MAX = 30.0  # farthest ground distance drawn, metres
_CAMERA_HEIGHT = {"walking": 1.6, "running": 1.6, "cycling": 1.4, "sitting": 0.45, "waving": 1.6}


def periodic_noise(h: int, w: int, rng: np.random.Generator, beta: float = 2.0) -> np.ndarray:
    """(h, w) float32 1/f^beta noise in [0, 1] that tiles seamlessly."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    freq = np.sqrt(fx**2 + fy**2)
    freq[0, 0] = 1.0
    spectrum = (rng.standard_normal(freq.shape) + 1j * rng.standard_normal(freq.shape)) / freq ** (
        beta / 2
    )
    spectrum[0, 0] = 0.0
    noise = np.fft.irfft2(spectrum, s=(h, w))
    noise -= noise.min()
    return (noise / max(float(noise.max()), 1e-9)).astype(np.float32)


def _colourise(noise: np.ndarray, rgb: tuple[int, int, int], contrast: float) -> np.ndarray:
    base = np.array(rgb, np.float32)
    img = base + (noise[..., None] - 0.5) * contrast * np.array([1.0, 1.0, 1.0], np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _ground_texture(activity: str, rng: np.random.Generator) -> np.ndarray:
    """(TEX, TEX, 3) uint8 RGB; rows = distance (v), columns = lateral position (u)."""
    noise = periodic_noise(_TEX, _TEX, rng, 1.6)
    u = (np.arange(_TEX) - _TEX / 2) / _PPM  # lateral metres per column
    v = np.arange(_TEX) / _PPM  # distance metres per row
    if activity == "walking":
        tex = _colourise(noise, (70, 140, 55), 90)
        edge = 0.9 + 0.15 * np.sin(v * 2.1)[:, None]
        path = np.abs(u)[None, :] < edge
        tex[path] = _colourise(noise, (175, 160, 135), 70)[path]
    elif activity == "running":
        tex = _colourise(noise, (190, 75, 50), 50)
        lanes = np.abs(((u + 0.61) % 1.22) - 0.61) < 0.05
        tex[:, lanes] = (235, 235, 235)
        tex[(v % 8.0 < 0.1), :] = (240, 240, 240)
    elif activity == "cycling":
        tex = _colourise(noise, (75, 75, 80), 45)
        tex[:, np.abs(u - 1.8) < 0.07] = (230, 230, 230)
        dash = (v % 8.0) < 3.0
        centre = np.abs(u + 1.6) < 0.07
        tex[np.ix_(dash, centre)] = (225, 190, 30)
    elif activity == "sitting":
        grain = periodic_noise(_TEX, _TEX, rng, 1.0)
        grain = cv2.resize(grain[:, : _TEX // 8], (_TEX, _TEX), interpolation=cv2.INTER_LINEAR)
        tex = _colourise(0.6 * grain + 0.4 * noise, (150, 100, 55), 110)
    else:  # waving: carpet
        tex = _colourise(noise, (95, 105, 130), 60)
    return tex


def _upper_texture(activity: str, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 RGB sky or wall above the horizon (row h-1 touches the horizon)."""
    rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    noise = periodic_noise(h, w, rng, 2.2)[..., None]
    if activity in ("walking", "running", "cycling"):
        top = {"walking": (120, 175, 235), "running": (60, 120, 220), "cycling": (185, 185, 195)}[
            activity
        ]
        img = np.array(top, np.float32) * (1 - rows) + np.array((225, 235, 245), np.float32) * rows
        img = img + (noise - 0.5) * 25
        band = periodic_noise(1, w, rng, 1.5)[0] if w > 1 else np.zeros(w)
        heights = (0.15 + 0.3 * band) * h
        mask = (h - np.arange(h))[:, None] < heights[None, :]
        colour = {"walking": (35, 90, 40), "running": (110, 110, 130), "cycling": (150, 80, 70)}[
            activity
        ]
        fill = np.array(colour, np.float32) + (noise - 0.5) * 80
        img = np.where(mask[..., None], fill, img)
    else:
        wall = {"sitting": (225, 212, 185), "waving": (90, 170, 160)}[activity]
        img = np.array(wall, np.float32) + (noise - 0.5) * 30
        x0 = int(rng.uniform(0.1, 0.5) * w)
        img[int(0.25 * h) : int(0.8 * h), x0 : x0 + w // 6] = (
            (120, 80, 45) if activity == "waving" else (170, 210, 240)
        )
    return np.clip(img, 0, 255).astype(np.uint8)


class _Scene:
    """Precomputed textures and ground maps of one activity at one canvas size."""

    def __init__(
        self,
        activity: str,
        seed: int,
        canvas: tuple[int, int],
        focal: float,
        out_h: int,
        margin: int,
    ) -> None:
        rng = np.random.default_rng([seed, sum(map(ord, activity))])
        width, height = canvas
        mean_pitch = math.radians(PROFILES[activity].pitch_deg)
        horizon = margin + 0.45 * out_h - focal * math.tan(mean_pitch)
        self.mean_pitch = mean_pitch
        self.moving = PROFILES[activity].speed_m_s > 0
        self.g0 = int(min(max(math.floor(horizon) + 1, 0), height))
        rows = np.arange(self.g0, height, dtype=np.float32)[:, None] - np.float32(horizon)
        z = np.minimum(focal * _CAMERA_HEIGHT[activity] / np.maximum(rows, 1e-3), _Z_MAX)
        cols = np.arange(width, dtype=np.float32)[None, :] - width / 2
        map_u = (cols * z / focal * _PPM + _TEX / 2).astype(np.float32)  # (rows, W)
        map_v = np.broadcast_to(z * _PPM, map_u.shape).astype(np.float32)
        # Fixed-point maps are faster; forward motion rolls the texture instead of the maps.
        self.map_xy, self.map_frac = cv2.convertMaps(map_u, map_v, cv2.CV_16SC2)
        self.ground = cv2.cvtColor(_ground_texture(activity, rng), cv2.COLOR_RGB2BGR)
        self.canvas = np.empty((height, width, 3), np.uint8)
        if self.g0 > 0:
            self.canvas[: self.g0] = cv2.cvtColor(
                _upper_texture(activity, rng, self.g0, width), cv2.COLOR_RGB2BGR
            )
        self._draw_ground(0.0)
        self.layout = rng.random(64)

    def _draw_ground(self, forward_m: float) -> None:
        if self.g0 >= self.canvas.shape[0]:
            return
        texture = np.roll(self.ground, -round(forward_m * _PPM) % _TEX, axis=0)  # 3 cm steps
        self.canvas[self.g0 :] = cv2.remap(
            texture, self.map_xy, self.map_frac, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP
        )

    def compose(self, pose: Pose) -> np.ndarray:
        if self.moving:
            self._draw_ground(pose.forward_m)
        return self.canvas.copy()


class SceneRenderer:
    """Renders (H, W, 3) uint8 BGR frames of :class:`Pose` s.

    Args:
        size: (width, height) of rendered frames in pixels.
        seed: texture seed.
        fov_deg: horizontal field of view, degrees.
    """

    def __init__(
        self, size: tuple[int, int] = (320, 240), seed: int = 0, fov_deg: float = 70.0
    ) -> None:
        width, height = int(size[0]), int(size[1])
        if not (32 <= width <= 4096 and 32 <= height <= 4096):
            raise ValueError(f"size must be (width, height) in [32, 4096] px, got {size}")
        self.size = (width, height)
        self.seed = seed
        self.focal = width / 2 / math.tan(math.radians(fov_deg) / 2)
        self.margin = int(0.12 * max(width, height))
        self._canvas = (width + 2 * self.margin, height + 2 * self.margin)
        self._scenes: dict[str, _Scene] = {}
        self._lock = threading.Lock()

    def scene(self, activity: str) -> _Scene:
        with self._lock:
            if activity not in self._scenes:
                self._scenes[activity] = _Scene(
                    activity, self.seed, self._canvas, self.focal, self.size[1], self.margin
                )
            return self._scenes[activity]

    def render(self, pose: Pose) -> np.ndarray:
        scene = self.scene(pose.activity)
        canvas = scene.compose(pose)
        _draw_props(canvas, pose, scene.layout, self.margin, self.size)
        width, height = self.size
        shift_x = -self.focal * math.tan(pose.yaw)
        shift_y = -self.focal * math.tan(pose.pitch - scene.mean_pitch)
        centre = (self._canvas[0] / 2, self._canvas[1] / 2)
        matrix = cv2.getRotationMatrix2D(centre, math.degrees(pose.roll), 1.0)
        matrix[:, 2] += np.array(
            [width / 2 - centre[0] + shift_x, height / 2 - centre[1] + shift_y]
        )
        frame = cv2.warpAffine(
            canvas, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        return cv2.convertScaleAbs(frame, alpha=pose.gain, beta=pose.bias)


def _draw_props(
    canvas: np.ndarray, pose: Pose, layout: np.ndarray, margin: int, size: tuple[int, int]
) -> None:
    """Activity-specific objects, in canvas coordinates (BGR)."""
    width, height = size
    x0, y0 = margin, margin
    if pose.activity == "sitting":
        cx = x0 + width // 2
        top, bottom = y0 + int(0.12 * height), y0 + int(0.62 * height)
        half = int(0.36 * width)
        cv2.rectangle(canvas, (cx - half, top), (cx + half, bottom), (40, 40, 40), -1)
        cv2.rectangle(
            canvas, (cx - half + 6, top + 6), (cx + half - 6, bottom - 6), (70, 45, 30), -1
        )
        scroll = int(pose.local_s * 6) % 12
        for i, y in enumerate(range(top + 10 - scroll, bottom - 10, 12)):
            if y < top + 8:
                continue
            length = int((0.3 + 0.6 * layout[i % 64]) * (2 * half - 24))
            colour = (200, 220, 120) if layout[(i + 7) % 64] > 0.6 else (230, 230, 230)
            cv2.line(canvas, (cx - half + 12, y), (cx - half + 12 + length, y), colour, 3)
        keyboard = np.array(
            [
                [cx - half, bottom],
                [cx + half, bottom],
                [cx + half + 30, bottom + int(0.3 * height)],
                [cx - half - 30, bottom + int(0.3 * height)],
            ],
            np.int32,
        )
        cv2.fillConvexPoly(canvas, keyboard, (150, 150, 155))
    elif pose.activity == "waving":
        cx = x0 + width // 2 + int(0.28 * width * math.sin(pose.phase))
        cy = y0 + int(0.42 * height)
        tilt = 25 * math.sin(pose.phase)
        arm = np.array(
            [
                [cx - 18, cy + 20],
                [cx + 18, cy + 20],
                [x0 + width // 2 + 60, y0 + height + margin],
                [x0 + width // 2 + 10, y0 + height + margin],
            ],
            np.int32,
        )
        skin = (120, 160, 225)
        cv2.fillConvexPoly(canvas, arm, (150, 90, 60))
        cv2.ellipse(
            canvas, (cx, cy), (int(0.09 * width), int(0.12 * height)), tilt, 0, 360, skin, -1
        )
        for k in range(4):
            angle = math.radians(tilt - 25 + 16 * k - 90)
            tip = (
                int(cx + 0.2 * width * math.cos(angle)),
                int(cy + 0.26 * height * math.sin(angle)),
            )
            cv2.line(canvas, (cx, cy), tip, skin, max(3, width // 40))
    elif pose.activity == "cycling":
        y = y0 + int(0.8 * height)
        cv2.line(
            canvas,
            (x0 - margin, y + 20),
            (x0 + width + margin, y + 20),
            (25, 25, 25),
            max(6, height // 18),
        )
        for side in (-1, 1):
            gx = x0 + width // 2 + side * int(0.42 * width)
            cv2.line(
                canvas, (gx - 25, y + 20), (gx + 25, y + 20), (30, 30, 160), max(10, height // 12)
            )
        cv2.line(
            canvas,
            (x0 + width // 2, y + 20),
            (x0 + width // 2, y0 + height + margin),
            (170, 170, 170),
            10,
        )


class SyntheticFrameSource(FrameSource):
    """Frames of a :class:`SyntheticMotion` for :class:`~drivers.camera.CameraDriver`.

    The driver paces it at its ``fps``; a frame depicts exactly its scheduled time.

    Args:
        motion: the session's motion model (its ``t0`` anchors the frame schedule).
        size: (width, height) of full-resolution frames in pixels.
        seed: texture seed (default: the motion's seed).
    """

    paced = True
    stamps_at_due_time = True

    def __init__(
        self, motion: SyntheticMotion, size: tuple[int, int] = (320, 240), seed: int | None = None
    ) -> None:
        self.motion = motion
        self.renderer = SceneRenderer(size, motion.seed if seed is None else seed)
        self.frame_size = self.renderer.size
        self.description = f"synthetic:seed={motion.seed}"
        self._open = False

    @property
    def t0(self) -> float | None:  # type: ignore[override]
        return self.motion.t0

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        if self.motion.t0 is None:
            self.motion.t0 = pylsl.local_clock()
        self._open = True

    def read(self, due_time: float) -> np.ndarray | None:
        if not self._open:
            raise RuntimeError("SyntheticFrameSource.read() before open()")
        assert self.motion.t0 is not None
        return self.renderer.render(self.motion.pose(max(0.0, due_time - self.motion.t0)))

    def close(self) -> None:
        self._open = False
