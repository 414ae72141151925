"""A self-contained HTML page: sections of text, tables and base64-embedded PNG images."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
img { max-width: 100%; } table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
.note { color: #666; }
"""


@dataclass
class Section:
    """One heading with paragraphs, an optional table and optional images (PNG bytes)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[tuple[str, str]] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (alt text, PNG)


def png_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` holding the PNG itself (a data URI): the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def render(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page as text (all values escaped)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{html.escape(subtitle)}</p>',
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(text)}</p>" for text in section.paragraphs)
        if section.table:
            rows = "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                for k, v in section.table
            )
            parts.append(f"<table>{rows}</table>")
        parts.extend(png_tag(png, alt) for alt, png in section.images)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
