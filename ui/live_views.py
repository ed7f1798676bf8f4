"""The Live page's parts: the WebRTC stream, the readouts beside it, freeze and record.

The frame work is :class:`pose_core.live.LivePipeline`; this module only connects it to
streamlit-webrtc (one pipeline per browser connection, made by the worker's factory,
closed when its stream ends) and to the page.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import time
from collections.abc import Callable
from typing import Any

import av
import cv2
import numpy as np
import streamlit as st
from streamlit_webrtc import VideoProcessorBase, WebRtcMode, webrtc_streamer

from pose_core.angles import HEADLINE_ANGLES
from pose_core.drawing import DrawStyle
from pose_core.errors import PoseLabError
from pose_core.export import series_table, table_csv
from pose_core.images import encode_jpeg, encode_png, fit_within
from pose_core.live import (
    COACHING_WINDOW_S,
    DEFAULT_RECORD_SECONDS,
    MAX_RECORD_SECONDS,
    FrozenFrame,
    IceConfig,
    LiveCoaching,
    LiveOptions,
    LivePipeline,
    LiveStats,
    ice_config,
    live_json,
)
from pose_core.types import ImageAnalysis, PoseSettings, left_to_right
from ui import state
from ui.i18n import angle_label, posture_label, t
from ui.views import Download, downloads_ui, image_result_ui
from ui.widgets import InputImage

READOUT_EVERY_S = 0.4  # how often the numbers beside the video refresh (a full page never reruns for them)
CONNECT_TIMEOUT_S = 20.0  # no picture this long after Start: the connection has failed
CAMERA_CONSTRAINTS = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}, "audio": False}


class PoseVideoProcessor(VideoProcessorBase):
    """streamlit-webrtc's hook into one connection: frames in, skeleton pictures out.

    NOTE: streamlit-webrtc runs this on a thread of its own (async_processing) and hands
    :meth:`recv_queued` every frame that arrived while the last one was processed; all
    but the newest are dropped here, so a slow machine shows fewer frames, not older ones.
    """

    def __init__(self, options: LiveOptions) -> None:
        self.pipeline = LivePipeline(options)

    def _picture(self, frame: av.VideoFrame) -> av.VideoFrame:
        # The picture is drawn straight into the outgoing frame's memory: no copy in between.
        picture = av.VideoFrame(frame.width, frame.height, "rgb24")
        done = self.pipeline.submit(frame_rgb(frame), out=frame_pixels(picture))
        if done is None:  # dropped, or the stream is closing
            return frame
        return picture

    def recv(self, frame: av.VideoFrame) -> av.VideoFrame:
        return self._picture(frame)

    async def recv_queued(self, frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        self.pipeline.count_dropped(len(frames) - 1)
        return [self._picture(frames[-1])]

    def on_ended(self) -> None:
        """The browser stopped, closed the tab or lost the connection: free the landmarker."""
        self.pipeline.close()


# AVColorSpace and AVColorRange values of frames in BT.601 limited range, what WebRTC's
# decoders hand over (unspecified means that too: it is what FFmpeg assumes for them).
_BT601_SPACES = {2, 5, 6}  # unspecified, BT470BG, SMPTE170M
_LIMITED_RANGES = {0, 1}  # unspecified, MPEG (limited)


def frame_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A camera frame as an (H, W, 3) uint8 RGB array.

    NOTE: OpenCV converts the decoders' yuv420p (BT.601, limited range) to RGB in under
    half the time PyAV's swscale takes in the live loop (0.18 against 0.41 ms at 640x480),
    and at least as faithfully (the two differ by at most 3 levels; OpenCV's rounding is
    slightly closer to the colours that were encoded). Anything else, or an odd size,
    goes through PyAV, which knows every format.
    """
    if (
        frame.format.name == "yuv420p"
        and frame.width % 2 == 0
        and frame.height % 2 == 0
        and frame.colorspace in _BT601_SPACES
        and frame.color_range in _LIMITED_RANGES
    ):
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2RGB_I420)
    return frame.to_ndarray(format="rgb24")


def frame_pixels(frame: av.VideoFrame) -> np.ndarray:
    """The (H, W, 3) uint8 pixels of an rgb24 frame, as a writable view of its own memory
    (rows may be padded: the view's row stride is the plane's line size)."""
    if frame.format.name != "rgb24":
        raise ValueError(f"expected an rgb24 frame, got {frame.format.name}")
    plane = frame.planes[0]
    return np.ndarray((frame.height, frame.width, 3), np.uint8, buffer=plane, strides=(plane.line_size, 3, 1))


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets.toml: nothing configured, which is the usual case
        return {}


def ice_config_ui() -> IceConfig:
    """The ICE servers from secrets or environment; a broken setting is said, and ignored."""
    try:
        return ice_config(_secrets(), os.environ)
    except PoseLabError as exc:
        st.warning(t("live.turn_ignored", reason=exc), icon=":material/settings:")
        return IceConfig()


def live_controls_ui() -> tuple[bool, float]:
    """Sidebar settings that only the live view has: mirror, and how long a recording keeps."""
    with st.sidebar:
        st.subheader(t("live.settings"))
        mirror = st.toggle(t("live.mirror"), value=True, key=state.LIVE_MIRROR, help=t("live.mirror_help"))
        seconds = st.slider(
            t("live.keeps"),
            5,
            int(MAX_RECORD_SECONDS),
            int(DEFAULT_RECORD_SECONDS),
            5,
            format="%d s",
            key=state.LIVE_RECORD_SECONDS,
        )
    return mirror, float(seconds)


def live_stream_ui(options: LiveOptions, ice: IceConfig) -> Any:
    """The camera's live picture with the skeleton on it; returns streamlit-webrtc's context."""
    ctx = webrtc_streamer(
        key=state.LIVE_STREAM,
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=ice.rtc_configuration,
        media_stream_constraints=CAMERA_CONSTRAINTS,
        video_processor_factory=lambda: PoseVideoProcessor(options),
        async_processing=True,
        video_html_attrs={"autoPlay": True, "controls": False, "muted": True, "style": {"width": "100%"}},
        translations={"start": t("live.start"), "stop": t("live.stop")},
    )
    processor = ctx.video_processor
    if processor is not None and processor.pipeline.options != options:  # a sidebar change: from the next frame
        processor.pipeline.options = options
    return ctx


def current_pipeline() -> LivePipeline | None:
    """This session's pipeline: the running one, or the last one after its stream stopped
    (its recording can still be downloaded)."""
    return st.session_state.get(state.LIVE_PIPELINE)


def _adopt_pipeline(ctx: Any) -> None:
    """Keep the running stream's pipeline in this session once it has shown a frame, and
    rerun the page then, so that Freeze and the recording's downloads come alive.

    NOTE: streamlit-webrtc makes the processor when the browser's video track arrives,
    after the page run that started the connection; only this fragment sees it appear.
    """
    processor = ctx.video_processor if ctx.state.playing else None
    pipeline = processor.pipeline if processor is not None else None
    if pipeline is None or pipeline is current_pipeline() or pipeline.stats().frames_done == 0:
        return
    st.session_state[state.LIVE_PIPELINE] = pipeline
    st.rerun(scope="app")


def _big_number(label: str, value: str, note: str = "") -> str:
    note_html = f'<div style="font-size:0.8rem;opacity:0.7">{html.escape(note)}</div>' if note else ""
    return (
        '<div style="margin-bottom:0.6rem">'
        f'<div style="font-size:0.95rem;opacity:0.8">{html.escape(label)}</div>'
        f'<div style="font-size:3rem;font-weight:700;line-height:1.05;font-variant-numeric:tabular-nums">'
        f"{html.escape(value)}</div>{note_html}</div>"
    )


def readouts_ui(stats: LiveStats | None, threshold: float, running: bool = True) -> None:
    """The numbers beside the video: headline angles large, then speed and people."""
    angles = {r.name: r for r in stats.angles} if stats else {}
    cells = []
    for name in HEADLINE_ANGLES:
        reading = angles.get(name)
        shown = reading is not None and not math.isnan(reading.degrees_2d) and reading.confidence >= threshold
        cells.append(
            _big_number(
                angle_label(name),
                f"{reading.degrees_2d:.0f}°" if shown and reading else "–",
                "" if shown or reading is None else t("live.not_visible"),
            )
        )
    left, right = st.columns(2)
    left.markdown("".join(cells[0::2]), unsafe_allow_html=True)  # left side of the body in one column
    right.markdown("".join(cells[1::2]), unsafe_allow_html=True)
    if stats is None or stats.frames_done == 0:
        st.caption(t("live.waiting") if running else t("live.press_start"))
        return
    latency = "–" if math.isnan(stats.latency_ms) else f"{stats.latency_ms:.0f} ms"
    people = (
        t("live.nobody")
        if stats.people == 0
        else (t("live.one_person") if stats.people == 1 else t("live.people", n=stats.people))
    )
    st.markdown(t("live.speed", fps=f"{stats.fps:.1f}", latency=latency, people=people), help=t("live.speed_help"))
    st.caption(t("live.frames", done=stats.frames_done, dropped=stats.frames_dropped))
    if stats.recording:
        st.caption(t("live.recording", s=f"{stats.recorded_s:.0f}"))
    if stats.error:
        st.error(t("live.no_skeleton", reason=stats.error), icon=":material/error:")


def coaching_ui(coaching: LiveCoaching | None) -> None:
    """Person 1's repetition count (over the last COACHING_WINDOW_S) and posture, large."""
    with st.container(border=True):
        if coaching is None:
            st.markdown(_big_number(t("reps.title"), "–") + _big_number(t("live.posture"), "–"), unsafe_allow_html=True)
            return
        reps, posture = coaching.repetitions, coaching.posture
        counted = angle_label(reps.angle) if reps.angle and reps.count else (reps.note or "")
        label = posture_label(posture.label) if posture is not None else t("live.nobody_seen")
        st.markdown(
            _big_number(t("live.reps_last", s=f"{COACHING_WINDOW_S:.0f}"), str(reps.count), counted)
            + _big_number(t("live.posture"), label, posture.reason if posture is not None else ""),
            unsafe_allow_html=True,
        )


def live_panel_ui(ctx: Any, threshold: float, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """The readouts, refreshed every READOUT_EVERY_S while the camera is on, and a plain
    message when a connection cannot be made (no picture ``connect_timeout_s`` after Start)."""
    running = bool(ctx.state.playing or ctx.state.signalling)

    @st.fragment(run_every=READOUT_EVERY_S if running else None)
    def panel() -> None:
        _adopt_pipeline(ctx)
        pipeline = current_pipeline()
        live = ctx.state.playing and pipeline is not None and not pipeline.closed
        stats = pipeline.stats() if live and pipeline is not None else None
        readouts_ui(stats, threshold, running)
        coaching_ui(pipeline.coaching() if live and pipeline is not None else None)
        _connection_watch(ctx, stats, connect_timeout_s)

    panel()


def _connection_watch(ctx: Any, stats: LiveStats | None, timeout_s: float) -> None:
    """Notice a connection that does not come up (no picture ``timeout_s`` after Start)
    and say so; the page then offers a snapshot instead."""
    connecting = ctx.state.signalling or (ctx.state.playing and (stats is None or stats.frames_in == 0))
    if not connecting:
        st.session_state.pop(state.LIVE_CONNECTING_SINCE, None)
        if stats is not None and stats.frames_in:
            st.session_state.pop(state.LIVE_NO_CONNECTION, None)
        return
    since = st.session_state.setdefault(state.LIVE_CONNECTING_SINCE, time.monotonic())
    if time.monotonic() - since > timeout_s and not st.session_state.get(state.LIVE_NO_CONNECTION):
        st.session_state[state.LIVE_NO_CONNECTION] = True
        st.rerun(scope="app")  # the page shows the message and opens the snapshot below


def no_connection_ui() -> None:
    """What to do when the live video cannot connect."""
    if st.session_state.get(state.LIVE_NO_CONNECTION):
        st.error(t("live.no_connection"), icon=":material/videocam_off:")


def freeze_ui() -> None:
    """The Freeze button: the current frame and its landmarks, kept for a full analysis below."""
    pipeline = current_pipeline()
    running = pipeline is not None and not pipeline.closed
    if st.button(
        t("live.freeze"),
        icon=":material/photo_camera:",
        key=state.LIVE_FREEZE,
        disabled=not running,
        help=t("live.freeze_help"),
    ):
        frozen = pipeline.freeze() if pipeline is not None else None
        if frozen is None:
            st.toast(t("live.no_frame"))
        else:
            st.session_state[state.LIVE_FROZEN] = frozen_outcome(frozen)


def frozen_outcome(frozen: FrozenFrame) -> tuple[InputImage, state.Outcome]:
    """A frozen frame as the image page's input and result (its landmarks as tracked live:
    nothing runs again)."""
    png = encode_png(frozen.rgb)
    digest = hashlib.sha256(png).hexdigest()
    height, width = frozen.rgb.shape[:2]
    analysis = ImageAnalysis(width=width, height=height, poses=left_to_right(frozen.poses))
    display = encode_jpeg(fit_within(frozen.rgb, state.DISPLAY_MAX_SIDE), quality=90)
    item = InputImage(f"live_frame_{frozen.time_s:.1f}s.png", png, digest)
    return item, state.Outcome(digest, analysis, display, None, frozen.model, frozen.settings)


def frozen_result_ui(style: Any) -> None:
    kept = st.session_state.get(state.LIVE_FROZEN)
    if kept is None:
        return
    item, outcome = kept
    st.subheader(t("live.frozen"))
    st.caption(t("live.frozen_caption"))
    image_result_ui(item, outcome, style)


def record_ui() -> None:
    """The record switch: while on, the pipeline keeps the last seconds of landmarks."""
    pipeline = current_pipeline()
    recording = st.toggle(
        t("live.record"),
        key=state.LIVE_RECORD,
        help=t("live.record_help"),
    )
    if pipeline is None:
        return
    if recording and not pipeline.closed:
        pipeline.start_recording()
    else:
        pipeline.stop_recording()


def recording_downloads_ui() -> None:
    """The recording's downloads, once recording is on or something was recorded; the
    files hold what is recorded when the button is clicked, not when it was drawn."""
    pipeline = current_pipeline()
    kept = pipeline.recording() if pipeline is not None else None
    if pipeline is None or kept is None or not (st.session_state.get(state.LIVE_RECORD) or len(kept.series)):
        return

    def csv() -> str:
        return table_csv(series_table((pipeline.recording() or kept).series, "live"))

    def json_text() -> str:
        return live_json(pipeline.recording() or kept)

    downloads_ui(
        Download(t("download.recording_csv"), csv, "live.landmarks.csv", "text/csv", ":material/table:", "dl-live-csv"),
        Download(
            t("download.recording_json"),
            json_text,
            "live.poses.json",
            "application/json",
            ":material/data_object:",
            "dl-live-json",
        ),
    )


def snapshot_ui(style: Any, settings: Any) -> None:
    """The camera snapshot of the image page, for when live video cannot connect."""
    failed = bool(st.session_state.get(state.LIVE_NO_CONNECTION))
    with st.expander(t("live.snapshot_title"), expanded=failed, icon=":material/photo_camera:"):
        shot = st.camera_input(t("inputs.snapshot"), key=state.LIVE_SNAPSHOT)
        if shot is None:
            st.caption(t("live.snapshot_caption"))
            return
        data = shot.getvalue()
        item = InputImage("camera_snapshot.jpg", data, state.upload_digest(shot.file_id, data))
        try:
            outcome = state.analyze_bytes(item.data, settings, item.digest)
        except PoseLabError as exc:
            st.error(t("model.load_failed", reason=exc), icon=":material/error:")
            return
        state.hold_for_session([outcome])
        image_result_ui(item, outcome, style)


def live_page_ui(
    settings: PoseSettings,
    style: DrawStyle,
    mirror: bool,
    record_seconds: float,
    *,
    stream: Callable[[LiveOptions, IceConfig], Any] = live_stream_ui,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> None:
    """The Live page under its title and sidebar: the message when live video cannot
    connect, the stream with Freeze and Record, the readouts beside it, the frozen frame,
    and the snapshot to take instead.

    ``stream`` makes the WebRTC component and returns its context; ``connect_timeout_s``
    is how long a missing picture after Start takes to count as a failed connection. Tests
    set both: streamlit-webrtc needs a real Streamlit server, and 20 s is long to wait.
    """
    try:
        options = LiveOptions(settings=settings, style=style, mirror=mirror, record_seconds=record_seconds)
    except PoseLabError as exc:
        st.error(t("live.bad_options", reason=exc), icon=":material/error:")
        st.stop()

    no_connection_ui()
    video_col, panel_col = st.columns([3, 2], gap="medium")
    with video_col:
        ctx = stream(options, ice_config_ui())
        left, right = st.columns(2, vertical_alignment="center")
        with left:
            freeze_ui()
        with right:
            record_ui()
        recording_downloads_ui()
    with panel_col:
        live_panel_ui(ctx, style.visibility_threshold, connect_timeout_s)
    frozen_result_ui(style)
    snapshot_ui(style, settings)
