"""One stream of a recorded XDF file as the replay sees it: data, schedule and outlet.

Shared by :class:`~comodo_live.recording.player.XdfPlayer` (pushes it on LSL) and
:class:`~comodo_live.recording.frameserver.FrameServer` (serves the video frames a
``VideoFrameIndex`` track indexes).
"""

from __future__ import annotations

import numpy as np
import pylsl

from comodo_live.streams.names import FRAME_INDEX_TYPE, VIDEO_TYPE


class Track:
    """One stream of the file: its data, schedule and (once opened) its outlet.

    Attributes:
        name, type: the stream's LSL name and type.
        original_source_id: as recorded (may be empty for foreign files).
        source_id: the replay outlet's source id.
        offsets: (N,) due times relative to the session start, seconds (already / speed).
        data: (N, C) array (numeric) or list of N samples (string streams).
        xml: the stream's header XML from the file.
    """

    def __init__(
        self, stream: dict, xml: str, source_id: str, t_first: float, speed: float
    ) -> None:
        info = stream["info"]
        self.name = str(info["name"][0])
        self.type = str((info.get("type") or [""])[0] or "")
        self.original_source_id = str((info.get("source_id") or [""])[0] or "")
        self.source_id = source_id
        self.xml = xml
        self.channel_format = str(info["channel_format"][0])
        self.channel_count = int(info["channel_count"][0])
        self.nominal_srate = float(info["nominal_srate"][0])
        stamps = np.asarray(stream["time_stamps"], dtype=np.float64).reshape(-1)
        self.timestamps = stamps  # (N,) as recorded, seconds
        self.offsets = (stamps - t_first) / speed  # (N,)
        self.schedule = np.maximum.accumulate(self.offsets) if len(stamps) else self.offsets
        self.is_string = self.channel_format == "string"
        series = stream["time_series"]
        if self.is_string:
            self.data: np.ndarray | list = [list(map(str, s)) for s in series]
        else:
            self.data = np.asarray(series).reshape(len(stamps), self.channel_count)
        self.is_frame_index = self.type == FRAME_INDEX_TYPE
        video_types = (VIDEO_TYPE.lower(), "videoraw", "videocompressed", "videojpeg")
        self.is_video = self.type.lower() in video_types or (
            self.channel_format in ("int8", "int16") and self.channel_count > 1024
        )  # raw frames (privacy: never pushed while the camera is off)
        self.outlet: pylsl.StreamOutlet | None = None
        self.cursor = 0
        self.pushed = 0

    def __len__(self) -> int:
        return len(self.timestamps)
