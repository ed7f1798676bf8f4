"""The Live page's app side (ui/live_views.py): the WebRTC frame processor on camera
frames through the real lite landmarker, and the page when live video cannot connect,
driven with AppTest and the real model.

NOTE: streamlit-webrtc needs a real Streamlit server (it looks its session up in the
server's runtime, which AppTest does not have), so the page runs here through
``ui.live_views.live_page_ui`` (what pages/live.py calls) with the WebRTC component
replaced by the context it holds when the browser has sent its offer and no network path
is ever found: signalling, never playing. Everything else on the page is the real thing;
the connection that does succeed is tests/test_live_browser.py's.
"""

from __future__ import annotations

import time

import av
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pose_core.drawing import DrawStyle
from pose_core.live import LiveOptions
from pose_core.schema import index_of
from tests.helpers import stage
from ui import state
from ui.i18n import catalogue
from ui.live_views import PoseVideoProcessor, frame_rgb

TIMEOUT_S = 0.5  # the page waits 20 s (CONNECT_TIMEOUT_S); the test need not
EN = catalogue("en")


JOINT = np.array(DrawStyle().joint_color)


@pytest.fixture(scope="module")
def camera(astronaut_rgb: np.ndarray) -> list[av.VideoFrame]:
    """Four 480x360 frames of the slide as WebRTC's decoders hand them over: yuv420p."""
    return [av.VideoFrame.from_ndarray(stage(astronaut_rgb, t)).reformat(format="yuv420p") for t in range(4)]


def test_camera_frames_become_rgb_within_a_few_levels_of_pyavs_conversion(camera):
    frame = camera[0]
    rgb, reference = frame_rgb(frame), frame.to_ndarray(format="rgb24")
    assert rgb.shape == reference.shape == (360, 480, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - reference).max() <= 3


def _tagged(frame: av.VideoFrame, colorspace: int, color_range: int) -> av.VideoFrame:
    frame = frame.reformat(format="yuv420p")
    frame.colorspace, frame.color_range = colorspace, color_range
    return frame


def test_other_formats_colour_spaces_and_odd_sizes_are_converted_by_pyav(camera, astronaut_rgb):
    odd = av.VideoFrame.from_ndarray(np.ascontiguousarray(astronaut_rgb[:101, :77])).reformat(format="yuv420p")
    for frame in (
        camera[0].reformat(format="rgb24"),
        camera[0].reformat(format="nv12"),
        odd,
        _tagged(camera[0], 1, 0),  # BT.709
        _tagged(camera[0], 2, 2),  # full range (JPEG)
    ):
        assert np.array_equal(frame_rgb(frame), frame.to_ndarray(format="rgb24")), frame


def test_the_processor_sends_back_a_new_frame_with_her_skeleton_mirrored(camera):
    processor = PoseVideoProcessor(LiveOptions(mirror=True))
    try:
        pictures = [processor.recv(frame) for frame in camera]
        frozen = processor.pipeline.freeze()
    finally:
        processor.on_ended()
    assert frozen is not None and len(frozen.poses) == 1
    picture = pictures[-1]
    assert picture is not camera[-1] and (picture.width, picture.height, picture.format.name) == (480, 360, "rgb24")
    rgb = picture.to_ndarray(format="rgb24")
    close = np.abs(rgb.astype(int) - JOINT).max(axis=2) <= 12
    ys, xs = np.nonzero(close)
    nose_x, nose_y = frozen.poses[0].landmarks_px[index_of("nose")]
    assert len(xs) > 100
    assert np.hypot(xs - (480 - nose_x), ys - nose_y).min() < 8, "a joint on her nose, mirrored"


def live_page_that_cannot_connect(timeout_s: float) -> None:
    """The Live page with lite and the default look, on a server the browser cannot reach.
    (AppTest runs this function's body as the script: imports go inside.)"""
    import streamlit as st  # noqa: PLC0415
    from streamlit_webrtc import WebRtcStreamerContext, WebRtcStreamerState  # noqa: PLC0415

    from pose_core.drawing import DrawStyle  # noqa: PLC0415
    from pose_core.types import PoseSettings  # noqa: PLC0415
    from ui.live_views import live_page_ui  # noqa: PLC0415

    def stuck_stream(options, ice):  # noqa: ANN001, ANN202, ARG001
        connecting = WebRtcStreamerState(playing=False, signalling=True)
        return st.session_state.setdefault("stuck_stream", WebRtcStreamerContext(worker=None, state=connecting))

    live_page_ui(PoseSettings(model="lite"), DrawStyle(), True, 30.0, stream=stuck_stream, connect_timeout_s=timeout_s)


def snapshot_expander(at: AppTest):  # noqa: ANN201 - an Expander
    return next(e for e in at.expander if e.label == EN["live.snapshot_title"])


def test_a_connection_that_never_comes_up_is_said_plainly_and_a_snapshot_is_offered(hopper_jpeg):
    at = AppTest.from_function(live_page_that_cannot_connect, kwargs={"timeout_s": TIMEOUT_S}, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    # Just after Start: waiting, no alarm, the snapshot tucked away.
    assert EN["live.waiting"] in [c.value for c in at.caption]
    assert [e.value for e in at.error] == []
    assert not snapshot_expander(at).proto.expanded

    time.sleep(TIMEOUT_S + 0.1)
    at.run()  # what the panel's timer does every READOUT_EVERY_S
    assert not at.exception, at.exception
    # Past the timeout: the plain message from the catalogue, and the snapshot open below it.
    assert [e.value for e in at.error] == [EN["live.no_connection"]]
    snapshot = snapshot_expander(at)
    assert snapshot.proto.expanded
    camera = snapshot.get("camera_input")
    assert [c.label for c in camera] == [EN["inputs.snapshot"]]

    # The snapshot it offers is analysed like a photo on the Image analysis page.
    at.camera_input(key=state.LIVE_SNAPSHOT).set_value(("shot.jpg", hopper_jpeg, "image/jpeg")).run()
    assert not at.exception, at.exception
    assert len([e for e in at.main if type(e).__name__ == "Image"]) == 2  # the photo and its skeleton
    assert at.dataframe[-1].value.shape[0] == 33  # her landmark table
    assert [e.value for e in at.error] == [EN["live.no_connection"]]  # still said: live video is still down
