"""The video page's views: progress, the annotated video, a frame explorer, charts."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import PurePath

import cv2
import numpy as np
import streamlit as st

from pose_core.angles import ANGLE_SPECS, SPEC_BY_NAME
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.export import range_of_motion, series_frame, video_json
from pose_core.plots import angles_over_time
from pose_core.smoothing import Smoothing
from pose_core.video import PoseSeries
from ui import state
from ui.views import Download, angles_ui, downloads_ui, landmark_table_ui

DEFAULT_CHART_ANGLES = ("left_elbow", "right_elbow", "left_knee", "right_knee")


def progress_ui() -> tuple[Callable[[int, int, float], None], Callable[[], None]]:
    """A progress bar that shows frames done and frames per second; returns the
    callback for the video functions and a function that removes the bar."""
    bar = st.progress(0.0, text="Reading the video...")
    last = [0.0]

    def update(done: int, total: int, fps: float) -> None:
        now = time.monotonic()
        if now - last[0] < 0.25 and done < total:  # a message per frame would flood the socket
            return
        last[0] = now
        bar.progress(min(done / max(total, 1), 1.0), text=f"Frame {done} of {total} · {fps:.0f} frames/s")

    return update, bar.empty


def _preview_with_pose(jpeg: bytes, series: PoseSeries, t: int, style: DrawStyle) -> np.ndarray:
    rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    return draw_overlay(rgb, [p.resized(width, height) for p in series.poses_at(t)], style)


def video_result_ui(
    name: str, job: state.VideoJob, render: state.VideoRender, smoothing: Smoothing, style: DrawStyle
) -> None:
    analysis, mp4, smoothed = job.analysis, render.mp4, render.smoothed
    info = analysis.info
    found = analysis.raw.frames_with_people
    st.video(mp4, format="video/mp4")
    st.caption(
        f"{info.width}×{info.height} px · {info.fps:.3g} fps · {info.duration_s:.1f} s · "
        f"{len(analysis.raw)} frame(s) analysed at {analysis.frames_per_second:.0f} frames/s · "
        f"a person in {found} · smoothing {smoothing.method} · model {analysis.model.variant}"
    )
    if found == 0:
        st.warning(
            "Nobody was found in this video. Try one where the person is larger and fully in frame, "
            "lower *Person detection* in the sidebar, or the *heavy* model.",
            icon=":material/person_off:",
        )
        return

    stem = PurePath(name).stem or "video"
    downloads_ui(
        Download("Annotated video (MP4)", mp4, f"{stem}.poses.mp4", "video/mp4", ":material/movie:", "dl-video-mp4"),
        Download(
            "Landmarks per frame (CSV)",
            lambda: series_frame(smoothed).to_csv(index=False, float_format="%.6f"),
            f"{stem}.landmarks.csv",
            "text/csv",
            ":material/table:",
            "dl-video-csv",
        ),
        Download(
            "Everything (JSON)",
            lambda: video_json(analysis, smoothed, smoothing, name),
            f"{stem}.poses.json",
            "application/json",
            ":material/data_object:",
            "dl-video-json",
        ),
    )

    raw_angles, smooth_angles = job.raw_angles, render.smoothed_angles
    person = 1
    if smoothed.people > 1:
        person = st.radio(
            "Person",
            range(1, smoothed.people + 1),
            horizontal=True,
            key=state.VIDEO_PERSON,
            format_func=lambda p: f"Person {p}",
        )

    st.subheader("Angles over time")
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    names = left.multiselect(
        "Angles",
        [s.name for s in ANGLE_SPECS],
        default=list(DEFAULT_CHART_ANGLES),
        format_func=lambda n: SPEC_BY_NAME[n].label,
        key=state.CHART_ANGLES,
    )
    dimension = (
        right.segmented_control(
            "Measured in", ["2d", "3d"], default="3d", key=state.CHART_DIMENSION, format_func=str.upper
        )
        or "3d"
    )

    t = 0
    if len(smoothed) > 1:
        t = st.slider(
            "Frame",
            0,
            len(smoothed) - 1,
            0,
            key=state.VIDEO_FRAME,
            format=f"%d of {len(smoothed) - 1}",
            help="Pick a moment to see its skeleton and landmarks.",
        )
    st.plotly_chart(
        angles_over_time(
            raw_angles,
            smooth_angles,
            names,
            dimension=dimension,
            person=person,
            current_time_s=float(smoothed.time_s[t]),
        ),
        key="angle-chart",
        config={"displaylogo": False},
    )

    st.subheader(f"Frame {int(smoothed.frame_index[t])} at {smoothed.time_s[t]:.2f} s")
    pose = smoothed.pose(t, person - 1)
    image_col, angle_col = st.columns([3, 2], gap="medium")
    image_col.image(
        _preview_with_pose(job.previews[t], smoothed, t, style),
        width="stretch",
        caption="Smoothed skeleton on this frame",
    )
    with angle_col:
        if pose is None:
            st.info(f"Person {person} is not in this frame.")
        else:
            angles_ui(pose, style.visibility_threshold)
    if pose is not None:
        landmark_table_ui(pose, key="video-frame-table")

    st.subheader("Range of motion")
    st.caption("Over readings whose confidence is at least 0.5; hidden joints' guesses are left out.")
    rom = range_of_motion(smooth_angles)
    rom = rom[rom["person"] == person].drop(columns="person")
    rom["angle"] = rom["angle"].map(lambda n: SPEC_BY_NAME[n].label)
    degrees = st.column_config.NumberColumn(format="%.0f°")
    st.dataframe(
        rom,
        hide_index=True,
        width="stretch",
        column_config={c: degrees for c in rom.columns if c != "angle"} | {"angle": "Angle"},
    )
