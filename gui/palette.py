"""Colours shared by the panels: one colour per activity, one per stream health."""

from __future__ import annotations

from PyQt6.QtGui import QColor

HEALTH_COLORS: dict[str, str] = {
    "ok": "#2e9d4f",
    "laggy": "#e0a000",
    "missing": "#d03030",
    "off": "#7a7f99",  # camera streams in privacy mode
}
HEALTH_UNKNOWN = "#808080"
UNKNOWN_LABEL = "unknown"
UNKNOWN_COLOR = "#9a9a9a"

# Qualitative palette (Tableau 10), readable on light and dark backgrounds.
_ACTIVITY_COLORS: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
IMU_CURVE_COLORS: tuple[str, ...] = ("#d62728", "#2ca02c", "#1f77b4")  # x, y, z


def activity_color(label: str, activities: tuple[str, ...]) -> QColor:
    """The colour of ``label``: by its position in ``activities``; grey for unknown/absent."""
    if label in activities:
        return QColor(_ACTIVITY_COLORS[activities.index(label) % len(_ACTIVITY_COLORS)])
    return QColor(UNKNOWN_COLOR)


def health_color(health: str) -> str:
    """Hex colour of a stream health light ("ok" | "laggy" | "missing" | "off")."""
    return HEALTH_COLORS.get(health, HEALTH_UNKNOWN)


def human_bytes(n: int) -> str:
    """``n`` bytes as a short human-readable string (``"12.3 MB"``)."""
    if n < 0:
        raise ValueError(f"n must be >= 0 bytes, got {n}")
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
