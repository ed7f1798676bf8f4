"""The video page's views: progress, the annotated video, a frame explorer, charts."""

from __future__ import annotations

import functools
import math
import threading
import time
import weakref
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pose_core.angles import ANGLE_SPECS, HEADLINE_ANGLES, SPEC_BY_NAME
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.export import safe_stem, series_table, table_csv, video_json
from pose_core.images import decode_preview
from pose_core.motion import MIN_SUSTAINED_S, ROM_HEADERS, AngleSeries, clean_angles, range_of_motion
from pose_core.plots import angles_over_time
from pose_core.repetitions import Repetitions, RepetitionSettings, count_repetitions, pick_angle
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing
from pose_core.video import VideoJob, VideoRender
from ui import state
from ui.posture_views import current_classifier, posture_ui
from ui.views import ROW_PX, Download, angles_ui, downloads_ui, landmark_table_ui


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


def _downloads_ui(name: str, job: VideoJob, render: VideoRender, reps: Repetitions | None = None) -> None:
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
            lambda: video_json(analysis, series, render.smoothing, name, current_classifier()),
            f"{stem}.poses.json",
            "application/json",
            ":material/data_object:",
            "dl-video-json",
        ),
    ]
    if reps is not None and reps.items:
        downloads.append(
            Download(
                "Repetitions (CSV)",
                lambda: table_csv(repetitions_table(reps)),
                f"{stem}.repetitions.csv",
                "text/csv",
                ":material/repeat:",
                "dl-video-reps",
            )
        )
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


# Cleaned angles per (smoothing, threshold), kept with the job that owns the raw series
# (shared by every session looking at it) so a slider move recomputes nothing.
_CLEANED: weakref.WeakKeyDictionary[VideoJob, dict[tuple[Smoothing, float], AngleSeries]] = weakref.WeakKeyDictionary()
_CLEANED_LOCK = threading.Lock()


def cleaned_angles(job: VideoJob, smoothing: Smoothing, threshold: float) -> AngleSeries:
    """:func:`clean_angles` of the job's raw series (a minute of one person: ~40 ms)."""
    assert job.analysis is not None
    key = (smoothing, round(threshold, 3))
    with _CLEANED_LOCK:
        kept = _CLEANED.setdefault(job, {})
        if key not in kept:
            if len(kept) >= 4:
                kept.pop(next(iter(kept)))
            kept[key] = clean_angles(job.analysis.raw, smoothing, min_confidence=threshold)
        return kept[key]


def _jump_to_clicked(chart_key: str) -> None:
    """A click on a chart moves the frame slider to the clicked reading's frame."""
    points = (st.session_state.get(chart_key) or {}).get("selection", {}).get("points", [])
    frames = [p.get("customdata") for p in points if isinstance(p.get("customdata"), (int, float))]
    if frames:
        st.session_state[state.VIDEO_FRAME] = int(frames[0])


def _plot_ui(figure: go.Figure, key: str) -> None:
    st.plotly_chart(
        figure,
        key=key,
        on_select=functools.partial(_jump_to_clicked, key),
        selection_mode="points",
        config={"displaylogo": False},
    )


def _chart_ui(angles: AngleSeries, person: int, t: int) -> str:
    """The angle chart; returns the dimension chosen ("2d" or "3d")."""
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
    figure = angles_over_time(angles, names, dimension=dimension, person=person, current_time_s=float(angles.time_s[t]))
    _plot_ui(figure, state.ANGLE_CHART)
    replaced = angles.replaced_count(dimension, person)
    st.caption(
        f"Solid: readings of joints seen with confidence ≥ {angles.min_confidence:g} (the sidebar's visibility "
        f"threshold), after replacing single-frame glitches ({replaced} reading(s) for person {person}, marked ×) "
        f"and smoothing ({angles.smoothing.method}). Click a reading to show its frame."
    )
    return dimension


def _repetition_settings_ui(angles: AngleSeries, person: int, dimension: str) -> RepetitionSettings:
    auto_name, _ = pick_angle(angles, person, dimension)
    options = ["auto", *angles.names]
    c1, c2, c3 = st.columns([2, 1, 1])
    choice = c1.selectbox(
        "Count repetitions of",
        options,
        key=state.REP_ANGLE,
        format_func=lambda n: (
            f"Auto: the angle that moves most ({SPEC_BY_NAME[auto_name].label if auto_name else 'none'})"
            if n == "auto"
            else SPEC_BY_NAME[n].label
        ),
    )
    min_range = c2.number_input(
        "Minimum range (°)", 5.0, 170.0, RepetitionSettings().min_range_degrees, 5.0, key=state.REP_MIN_RANGE
    )
    min_phase = c3.number_input(
        "Minimum phase (s)", 0.0, 5.0, RepetitionSettings().min_phase_s, 0.05, key=state.REP_MIN_PHASE
    )
    manual = st.toggle(
        "Set the thresholds in degrees",
        key=state.REP_MANUAL,
        help="By default they sit at 30 % and 70 % of the angle's range (5th to 95th percentile).",
    )
    low = high = None
    if manual:
        low, high = st.slider("Thresholds (°)", 0.0, 180.0, (100.0, 150.0), 1.0, key=state.REP_THRESHOLDS)
        if low >= high:
            high = low + 1.0
    return RepetitionSettings(
        angle=None if choice == "auto" else choice,
        dimension=dimension,
        low_degrees=low,
        high_degrees=high,
        min_range_degrees=float(min_range),
        min_phase_s=float(min_phase),
    )


def repetitions_table(reps: Repetitions) -> pd.DataFrame:
    """The repetitions as people read them: one row each, seconds and degrees."""
    return pd.DataFrame(
        [
            {
                "Rep": r.number,
                "Start (s)": r.start_s,
                "End (s)": r.end_s,
                "Duration (s)": r.duration_s,
                "Lowest (°)": r.min_degrees,
                "Highest (°)": r.max_degrees,
                "Tempo out / back (s)": f"{r.out_s:.1f} / {r.back_s:.1f}",
            }
            for r in reps.items
        ],
        columns=["Rep", "Start (s)", "End (s)", "Duration (s)", "Lowest (°)", "Highest (°)", "Tempo out / back (s)"],
    )


def _repetitions_ui(angles: AngleSeries, person: int, dimension: str, t: int) -> Repetitions:
    st.subheader("Repetitions")
    settings = _repetition_settings_ui(angles, person, dimension)
    reps = count_repetitions(angles, person, settings)
    if reps.angle is None:
        st.info(f"No repetitions: {reps.note}.", icon=":material/info:")
        return reps
    label = SPEC_BY_NAME[reps.angle].label
    figure = angles_over_time(
        angles,
        [reps.angle],
        dimension=dimension,
        person=person,
        current_time_s=float(angles.time_s[t]),
        repetitions=reps,
        height=300,
    )
    _plot_ui(figure, state.REP_CHART)
    if not reps.items:
        st.info(f"No repetitions of the {label.lower()}: {reps.note}.", icon=":material/info:")
        return reps
    span = reps.items[-1].end_s - reps.items[0].start_s
    per_minute = 60 * (reps.count - 1) / span if reps.count > 1 and span > 0 else math.nan
    st.markdown(
        f"**{reps.count} repetition(s)** of the {label.lower()} ({dimension.upper()}), shaded above; "
        f"thresholds {reps.low_degrees:.0f}° and {reps.high_degrees:.0f}° (dashed)"
        + (f"; {per_minute:.0f} per minute." if math.isfinite(per_minute) else ".")
    )
    table = repetitions_table(reps)
    seconds = st.column_config.NumberColumn(format="%.2f")
    degrees = st.column_config.NumberColumn(format="%.0f°")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(table) + 1) + 3,
        column_config={c: seconds for c in ("Start (s)", "End (s)", "Duration (s)")}
        | {c: degrees for c in ("Lowest (°)", "Highest (°)")},
    )
    return reps


def _frame_explorer_ui(
    job: VideoJob, series: PoseSeries, person: int, t: int, style: DrawStyle, reps: Repetitions | None
) -> None:
    time_s = float(series.time_s[t])
    st.subheader(f"Frame {int(series.frame_index[t])} at {time_s:.2f} s")
    pose = series.pose(t, person - 1)
    image_col, angle_col = st.columns([3, 2], gap="medium")
    image_col.image(
        _preview_with_pose(job.previews[t], series, t, style),
        width="stretch",
        caption="Smoothed skeleton on this frame",
    )
    with angle_col:
        if reps is not None and reps.items:
            done, current = reps.done_by(time_s)
            if current is not None:
                phase = "going out" if time_s < current.turn_s else "coming back"
                st.metric("Repetitions", f"{done} done", f"rep {current.number} under way, {phase}", delta_color="off")
            else:
                st.metric("Repetitions", f"{done} of {reps.count} done")
        if pose is None:
            st.info(f"Person {person} is not in this frame.")
        else:
            posture_ui(pose)
            angles_ui(pose, style.visibility_threshold)
    if pose is not None:
        landmark_table_ui(pose, key="video-frame-table")


def rom_table(angles: AngleSeries, person: int) -> pd.DataFrame:
    """Range of motion of one person, with the headers people read."""
    rom = range_of_motion(angles)
    rom = rom[rom["person"] == person].drop(columns="person")
    rom["angle"] = rom["angle"].map(lambda n: SPEC_BY_NAME[n].label)
    return rom.rename(columns=ROM_HEADERS)


def _range_of_motion_ui(angles: AngleSeries, person: int) -> None:
    st.subheader("Range of motion")
    st.caption(
        f"Low and high are the 5th and 95th percentiles of the cleaned readings (not the extremes), counting only "
        f"readings seen with confidence ≥ {angles.min_confidence:g} for at least {MIN_SUSTAINED_S:g} s in a row: "
        "a glitch or a glimpse of a hidden joint cannot set them. None: never seen clearly; Readings: how many counted."
    )
    rom = rom_table(angles, person)
    degrees = st.column_config.NumberColumn(format="%.0f°")
    st.dataframe(
        rom,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(rom) + 1) + 3,  # the whole table, no scroll box inside the page
        column_config={c: degrees for c in rom.columns if c not in ("Angle", ROM_HEADERS["readings"])},
    )


def video_result_ui(name: str, job: VideoJob, render: VideoRender, style: DrawStyle) -> None:
    """Everything about one analysed video: the annotated video, downloads, charts, a
    frame explorer, repetitions and the range of motion."""
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
    angles = cleaned_angles(job, render.smoothing, style.visibility_threshold)
    person = _person_picker_ui(series)
    st.subheader("Angles over time")
    t = 0
    if len(series) > 1:
        if st.session_state.get(state.VIDEO_FRAME, 0) > len(series) - 1:
            st.session_state[state.VIDEO_FRAME] = 0
        t = st.slider(
            "Frame",
            0,
            len(series) - 1,
            key=state.VIDEO_FRAME,
            format=f"%d of {len(series) - 1}",
            help="Pick a moment to see its skeleton and landmarks, or click a reading on a chart.",
        )
    dimension = _chart_ui(angles, person, t)
    reps = _repetitions_ui(angles, person, dimension, t)
    _frame_explorer_ui(job, series, person, t, style, reps)
    _range_of_motion_ui(angles, person)
    st.subheader("Downloads")
    _downloads_ui(name, job, render, reps)
