"""LSL stream conventions shared by drivers, readers, recorder, replay and engine."""

from __future__ import annotations

IMU_TYPE = "IMU"  # 6 x float32: accel m/s^2, gyro rad/s (records.IMU_CHANNELS)
FRAME_INDEX_TYPE = "VideoFrameIndex"  # 1 x double: index into the session video; stamped at capture
VIDEO_TYPE = "Video"  # only with --video-over-lsl: H*W*3 x int8 (view as uint8)
AUDIO_TYPE = "Audio"  # 1 x float32, 16 kHz default
MARKER_TYPE = "Markers"  # 1 x string, irregular

# Marker strings (one vocabulary for labels and mode changes from any lab software).
MARKER_LABEL_START = "label:start:"  # + activity name, e.g. "label:start:walking"
MARKER_LABEL_STOP = "label:stop"
MARKER_ACTIVITY = "activity:"  # ground truth from the synthetic script: "activity:walking"
MARKER_CAMERA_ON = "camera:on"
MARKER_CAMERA_OFF = "camera:off"
MARKER_VIDEO_START = (
    "video:start:"  # + video file name: frame-index values now count that file's frames
)
MARKER_VIDEO_STOP = "video:stop:"  # + video file name: that file is finished
