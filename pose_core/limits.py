"""What a shared server (the dashboard, the HTTP API) accepts: one set of limits for both,
sized for a small server (Streamlit Community Cloud's smallest apps have 690 MB). The
command line has none."""

from __future__ import annotations

from dataclasses import dataclass

from pose_core.video_io import VideoLimits


@dataclass(frozen=True)
class ServerLimits:
    # Photos are decoded at most at this size (a 48 MP photo as 12 MP): landmarks are
    # fractions of the picture, and the model crops each person to 256 px anyway.
    decode_pixels: int = 12_500_000
    max_images: int = 20  # photos in one batch or request
    max_batch_pixels: int = 250_000_000  # full-size pixels in one batch: e.g. twenty 12 MP photos
    video: VideoLimits = VideoLimits(max_bytes=100 * 2**20, max_duration_s=60.0, max_side_px=1920)
    # A whole HTTP request body: a full batch of phone photos, or the largest video, and the form.
    max_request_bytes: int = 128 * 2**20


SERVER_LIMITS = ServerLimits()
