"""The video page's views: progress, the annotated video, a frame explorer, charts."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import streamlit as st

from pose_core.angles import ANGLE_SPECS, HEADLINE_ANGLES, SPEC_BY_NAME
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.export import safe_stem, series_table, table_csv, video_json
from pose_core.images import decode_preview
from pose_core.motion import ROM_MIN_CONFIDENCE, range_of_motion
from pose_core.plots import angles_over_time
from pose_core.series import PoseSeries
from pose_core.video import VideoJob, VideoRender
from ui import state
from ui.views import Download, angles_ui, downloads_ui, landmark_table_ui


def progress_ui() -> tuple[Callable[[int, int, float], None], Callable[[], None], Callable[[str], None]]:
    """A progress bar that shows frames done and frames per second; returns the
    callback for the video functions, a function that removes the bar, and one that
    shows a message in it (e.g. while waiting for the server)."""
    bar = st.progress(0.0, text="Reading the video...")
    last = [0.0]

    def update(done: int, total: int, fps: float) -> None:
        now = time.monotonic()
        if now - last[0] < 0.25 and done < total:  # a message per frame would flood the socket
            return
        last[0] = now
        if total:
            bar.progress(min(done / total, 1.0), text=f"Frame {done} of {total} · {fps:.0f} frames/s")
        else:  # the file does not say how long it is
            bar.progress(0.0, text=f"Frame {done} · {fps:.0f} frames/s")

    return update, bar.empty, lambda text: bar.progress(0.0, text=text)


def _preview_with_pose(jpeg: bytes, series: PoseSeries, t: int, style: DrawStyle) -> np.ndarray:
    rgb = decode_preview(jpeg)
    height, width = rgb.shape[:2]
    return draw_overlay(rgb, [p.resized(width, height) for p in series.poses_at(t)], style)


def _downloads_ui(name: str, job: VideoJob, render: VideoRender) -> None:
    assert job.analysis is not None
    analysis, series = job.analysis, render.series
    stem = safe_stem(name, "video")
    downloads = [
        Download(
            "Landmarks per frame (CSV)",
            lambda: table_csv(series_table(series, name)),
            f"{stem}.landmarks.csv",
            "text/csv",
            ":material/table:",
            "dl-video-csv",
        ),
        Download(
            "Everything (JSON)",
            lambda: video_json(analysis, series, render.smoothing, name),
            f"{stem}.poses.json",
            "application/json",
            ":material/data_object:",
            "dl-video-json",
        ),
    ]
    if render.mp4 is not None:
        mp4 = Download(
            "Annotated video (MP4)", render.mp4, f"{stem}.poses.mp4", "video/mp4", ":material/movie:", "dl-video-mp4"
        )
        downloads.insert(0, mp4)
    downloads_ui(*downloads)


def _person_picker_ui(series: PoseSeries) -> int:
    """The person (1-based) whose charts and tables to show."""
    if series.people == 1:
        return 1
    return int(
        st.radio(
            "Person",
            range(1, series.people + 1),
            horizontal=True,
            key=state.VIDEO_PERSON,
            format_func=lambda p: f"Person {p}",
        )
    )


def _chart_ui(job: VideoJob, render: VideoRender, person: int, t: int) -> None:
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    names = left.multiselect(
        "Angles",
        [s.name for s in ANGLE_SPECS],
        default=list(HEADLINE_ANGLES),
        format_func=lambda n: SPEC_BY_NAME[n].label,
        key=state.CHART_ANGLES,
    )
    dimension = (
        right.segmented_control(
            "Measured in", ["2d", "3d"], default="3d", key=state.CHART_DIMENSION, format_func=str.upper
        )
        or "3d"
    )
    figure = angles_over_time(
        job.raw_angles,
        render.angles,
        names,
        dimension=dimension,
        person=person,
        current_time_s=float(render.series.time_s[t]),
    )
    st.plotly_chart(figure, key="angle-chart", config={"displaylogo": False})


def _frame_explorer_ui(job: VideoJob, series: PoseSeries, person: int, t: int, style: DrawStyle) -> None:
    st.subheader(f"Frame {int(series.frame_index[t])} at {series.time_s[t]:.2f} s")
    pose = series.pose(t, person - 1)
    image_col, angle_col = st.columns([3, 2], gap="medium")
    image_col.image(
        _preview_with_pose(job.previews[t], series, t, style),
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


def _range_of_motion_ui(render: VideoRender, person: int) -> None:
    st.subheader("Range of motion")
    st.caption(f"Over readings whose confidence is at least {ROM_MIN_CONFIDENCE}; hidden joints' guesses are left out.")
    rom = range_of_motion(render.angles)
    rom = rom[rom["person"] == person].drop(columns="person")
    rom["angle"] = rom["angle"].map(lambda n: SPEC_BY_NAME[n].label)
    degrees = st.column_config.NumberColumn(format="%.0f°")
    st.dataframe(
        rom,
        hide_index=True,
        width="stretch",
        column_config={c: degrees for c in rom.columns if c != "angle"} | {"angle": "Angle"},
    )


def video_result_ui(name: str, job: VideoJob, render: VideoRender, style: DrawStyle) -> None:
    """Everything about one analysed video: the annotated video, downloads, charts, a
    frame explorer and the range of motion."""
    analysis, series = job.analysis, render.series
    assert analysis is not None
    info = analysis.info
    found = analysis.raw.frames_with_people
    if render.mp4 is not None:
        st.video(render.mp4, format="video/mp4")
    st.caption(
        f"{info.width}×{info.height} px · {info.fps:.3g} fps · {info.duration_s:.1f} s · "
        f"{len(analysis.raw)} frame(s) analysed at {analysis.frames_per_second:.0f} frames/s · "
        f"a person in {found} · smoothing {render.smoothing.method} · model {analysis.model.variant}"
    )
    if not analysis.complete:
        st.warning(
            f"Only part of this video could be read: {analysis.problem}. Everything below covers its first "
            f"{info.duration_s:.1f} s ({info.frame_count} frames). Export it again to analyse all of it.",
            icon=":material/warning:",
        )
    if found == 0:
        st.warning(
            "Nobody was found in this video. Try one where the person is larger and fully in frame, "
            "lower *Person detection* in the sidebar, or the *heavy* model.",
            icon=":material/person_off:",
        )
        return
    _downloads_ui(name, job, render)
    person = _person_picker_ui(series)
    st.subheader("Angles over time")
    t = 0
    if len(series) > 1:
        t = st.slider(
            "Frame",
            0,
            len(series) - 1,
            0,
            key=state.VIDEO_FRAME,
            format=f"%d of {len(series) - 1}",
            help="Pick a moment to see its skeleton and landmarks.",
        )
    _chart_ui(job, render, person, t)
    _frame_explorer_ui(job, series, person, t, style)
    _range_of_motion_ui(render, person)
