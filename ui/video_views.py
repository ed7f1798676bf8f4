"""The video page's views: progress, the annotated video, a frame explorer, charts."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pose_core.angles import ANGLE_SPECS, HEADLINE_ANGLES
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.export import safe_stem, series_table, table_csv, video_json
from pose_core.images import decode_preview
from pose_core.motion import MIN_SUSTAINED_S, ROM_HEADERS, AngleSeries, range_of_motion
from pose_core.plots import angles_over_time
from pose_core.repetitions import Repetitions, RepetitionSettings, count_repetitions, pick_angle
from pose_core.series import PoseSeries
from pose_core.video import VideoJob, VideoRender
from ui import state
from ui.i18n import angle_label, t
from ui.layout import blank_na
from ui.posture_views import current_classifier, posture_ui
from ui.views import ROW_PX, Download, angles_ui, downloads_ui, landmark_table_ui


def progress_ui() -> tuple[Callable[[int, int, float], None], Callable[[], None], Callable[[str], None]]:
    """A progress bar that shows frames done and frames per second; returns the
    callback for the video functions, a function that removes the bar, and one that
    shows a message in it (e.g. while waiting for the server)."""
    bar = st.progress(0.0, text=t("video.reading"))
    last = [0.0]

    def update(done: int, total: int, fps: float) -> None:
        now = time.monotonic()
        if now - last[0] < 0.25 and done < total:  # a message per frame would flood the socket
            return
        last[0] = now
        if total:
            bar.progress(min(done / total, 1.0), text=t("video.progress", done=done, total=total, fps=f"{fps:.0f}"))
        else:  # the file does not say how long it is
            bar.progress(0.0, text=t("video.progress_open", done=done, fps=f"{fps:.0f}"))

    return update, bar.empty, lambda text: bar.progress(0.0, text=text)


def _preview_with_pose(jpeg: bytes, series: PoseSeries, row: int, style: DrawStyle) -> np.ndarray:
    rgb = decode_preview(jpeg)
    height, width = rgb.shape[:2]
    return draw_overlay(rgb, [p.resized(width, height) for p in series.poses_at(row)], style)


def _downloads_ui(name: str, job: VideoJob, render: VideoRender, reps: Repetitions | None = None) -> None:
    assert job.analysis is not None
    analysis, series = job.analysis, render.series
    stem = safe_stem(name, "video")
    downloads = [
        Download(
            t("download.video_csv"),
            lambda: table_csv(series_table(series, name)),
            f"{stem}.landmarks.csv",
            "text/csv",
            ":material/table:",
            "dl-video-csv",
        ),
        Download(
            t("download.everything_json"),
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
                t("download.reps_csv"),
                lambda: table_csv(repetitions_table(reps)),
                f"{stem}.repetitions.csv",
                "text/csv",
                ":material/repeat:",
                "dl-video-reps",
            )
        )
    if render.mp4 is not None:
        mp4 = Download(
            t("download.video_mp4"), render.mp4, f"{stem}.poses.mp4", "video/mp4", ":material/movie:", "dl-video-mp4"
        )
        downloads.insert(0, mp4)
    downloads_ui(*downloads)


def _person_picker_ui(series: PoseSeries) -> int:
    """The person (1-based) whose charts and tables to show."""
    if series.people == 1:
        return 1
    return int(
        st.radio(
            t("person.pick"),
            range(1, series.people + 1),
            horizontal=True,
            key=state.VIDEO_PERSON,
            format_func={p: t("person.label", person=p) for p in range(1, series.people + 1)}.__getitem__,
        )
    )


# Cleaned angles per (smoothing, threshold), kept with the job that owns the raw series
# (shared by every session looking at it) so a slider move recomputes nothing.
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


def _chart_ui(angles: AngleSeries, person: int, row: int) -> str:
    """The angle chart; returns the dimension chosen ("2d" or "3d")."""
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    names = left.multiselect(
        t("chart.angles"),
        [s.name for s in ANGLE_SPECS],
        default=list(HEADLINE_ANGLES),
        format_func={s.name: angle_label(s.name) for s in ANGLE_SPECS}.__getitem__,
        key=state.CHART_ANGLES,
    )
    dimension = (
        right.segmented_control(
            t("chart.measured_in"), ["2d", "3d"], default="3d", key=state.CHART_DIMENSION, format_func=str.upper
        )
        or "3d"
    )
    figure = angles_over_time(
        angles, names, dimension=dimension, person=person, current_time_s=float(angles.time_s[row])
    )
    _plot_ui(translated_chart(figure), state.ANGLE_CHART)
    replaced = angles.replaced_count(dimension, person)
    st.caption(
        t(
            "chart.caption",
            conf=f"{angles.min_confidence:g}",
            replaced=replaced,
            person=person,
            smoothing=angles.smoothing.method,
        )
    )
    return dimension


def _repetition_settings_ui(angles: AngleSeries, person: int, dimension: str) -> RepetitionSettings:
    auto_name, _ = pick_angle(angles, person, dimension)
    options = ["auto", *angles.names]
    c1, c2, c3 = st.columns([2, 1, 1])
    choice = c1.selectbox(
        t("reps.count_of"),
        options,
        key=state.REP_ANGLE,
        # NOTE: labels looked up now: Streamlit may call a format_func outside the page's run.
        format_func=(
            {n: angle_label(n) for n in angles.names}
            | {"auto": t("reps.auto", angle=angle_label(auto_name) if auto_name else t("reps.none"))}
        ).__getitem__,
    )
    min_range = c2.number_input(
        t("reps.min_range"), 5.0, 170.0, RepetitionSettings().min_range_degrees, 5.0, key=state.REP_MIN_RANGE
    )
    min_phase = c3.number_input(
        t("reps.min_phase"), 0.0, 5.0, RepetitionSettings().min_phase_s, 0.05, key=state.REP_MIN_PHASE
    )
    manual = st.toggle(
        t("reps.manual"),
        key=state.REP_MANUAL,
        help=t("reps.manual_help"),
    )
    low = high = None
    if manual:
        low, high = st.slider(t("reps.thresholds"), 0.0, 180.0, (100.0, 150.0), 1.0, key=state.REP_THRESHOLDS)
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


REP_COLUMNS = ("Rep", "Start (s)", "End (s)", "Duration (s)", "Lowest (°)", "Highest (°)", "Tempo out / back (s)")


def rep_headers() -> list[str]:
    """REP_COLUMNS as the reader's language names them (the CSV keeps them in English)."""
    return [t(f"reps.col.{n}") for n in range(len(REP_COLUMNS))]


def translated_chart(figure: go.Figure) -> go.Figure:
    """An angle chart from :func:`pose_core.plots.angles_over_time` in the reader's
    language (names, legend, axes), with a compact legend that fits a phone."""
    labels = {s.label: angle_label(s.name) for s in ANGLE_SPECS}
    phrases = {
        "not seen": t("chart.not_seen"),
        "raw": t("chart.raw"),
        "glitch replaced": t("chart.glitch"),
        "faint: raw reading": t("chart.legend_raw"),
    }

    def name(text: str) -> str:
        if text.startswith("dotted, faded"):
            return t("chart.legend_unseen")
        head, _, kind = text.partition(", ")
        return ", ".join(x for x in (labels.get(head, phrases.get(head, head)), phrases.get(kind, kind)) if x)

    for trace in figure.data:
        if trace.name:
            trace.update(name=name(trace.name))
    figure.update_layout(
        xaxis_title_text=t("chart.x"),
        yaxis_title_text=t("chart.y", dim=(figure.layout.yaxis.title.text or "3D")[:2]),
        legend={"font": {"size": 11}, "itemwidth": 30, "tracegroupgap": 0},
    )
    return figure


def repetitions_table(reps: Repetitions) -> pd.DataFrame:
    """The repetitions: one row each, seconds and degrees (English headers, as the CSV has)."""
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
        columns=list(REP_COLUMNS),
    )


def _repetitions_ui(angles: AngleSeries, person: int, dimension: str, row: int) -> Repetitions:
    st.subheader(t("reps.title"))
    settings = _repetition_settings_ui(angles, person, dimension)
    reps = count_repetitions(angles, person, settings)
    if reps.angle is None:
        st.info(t("reps.none_found", note=reps.note), icon=":material/info:")
        return reps
    label = angle_label(reps.angle)
    figure = angles_over_time(
        angles,
        [reps.angle],
        dimension=dimension,
        person=person,
        current_time_s=float(angles.time_s[row]),
        repetitions=reps,
        height=300,
    )
    _plot_ui(translated_chart(figure), state.REP_CHART)
    if not reps.items:
        st.info(t("reps.none_of", angle=label, note=reps.note), icon=":material/info:")
        return reps
    span = reps.items[-1].end_s - reps.items[0].start_s
    per_minute = 60 * (reps.count - 1) / span if reps.count > 1 and span > 0 else math.nan
    st.markdown(
        t(
            "reps.summary",
            n=reps.count,
            angle=label,
            dim=dimension.upper(),
            low=f"{reps.low_degrees:.0f}",
            high=f"{reps.high_degrees:.0f}",
        )
        + (t("reps.per_minute", n=f"{per_minute:.0f}") if math.isfinite(per_minute) else "")
    )
    table = repetitions_table(reps)
    headers = dict(zip(REP_COLUMNS, rep_headers(), strict=True))
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(table) + 1) + 3,
        column_config={c: st.column_config.NumberColumn(headers[c], format="%.2f") for c in REP_COLUMNS[1:4]}
        | {c: st.column_config.NumberColumn(headers[c], format="%.0f°") for c in REP_COLUMNS[4:6]}
        | {c: st.column_config.TextColumn(headers[c]) for c in (REP_COLUMNS[0], REP_COLUMNS[6])},
    )
    return reps


def _frame_explorer_ui(
    job: VideoJob, series: PoseSeries, person: int, row: int, style: DrawStyle, reps: Repetitions | None
) -> None:
    time_s = float(series.time_s[row])
    st.subheader(t("frame.title", frame=int(series.frame_index[row]), time=f"{time_s:.2f}"))
    pose = series.pose(row, person - 1)
    image_col, angle_col = st.columns([3, 2], gap="medium")
    image_col.image(
        _preview_with_pose(job.previews[row], series, row, style),
        width="stretch",
        caption=t("frame.caption"),
    )
    with angle_col:
        if reps is not None and reps.items:
            done, current = reps.done_by(time_s)
            if current is not None:
                phase = t("frame.going_out") if time_s < current.turn_s else t("frame.coming_back")
                st.metric(
                    t("reps.title"),
                    t("frame.done", n=done),
                    t("frame.under_way", rep=current.number, phase=phase),
                    delta_color="off",
                )
            else:
                st.metric(t("reps.title"), t("frame.done_of", n=done, total=reps.count))
        if pose is None:
            st.info(t("frame.absent", person=person))
        else:
            posture_ui(pose)
            angles_ui(pose, style.visibility_threshold)
    if pose is not None:
        landmark_table_ui(pose, key="video-frame-table")


def rom_table(angles: AngleSeries, person: int) -> pd.DataFrame:
    """Range of motion of one person, with the headers people read."""
    rom = range_of_motion(angles)
    rom = rom[rom["person"] == person].drop(columns="person")
    rom["angle"] = rom["angle"].map(angle_label)
    return rom.rename(columns={k: t(f"rom.{k}") for k in ROM_HEADERS})


def _range_of_motion_ui(angles: AngleSeries, person: int) -> None:
    st.subheader(t("rom.title"))
    st.caption(t("rom.caption", conf=f"{angles.min_confidence:g}", s=f"{MIN_SUSTAINED_S:g}"))
    rom = rom_table(angles, person)
    fixed = (t("rom.angle"), t("rom.readings"))
    st.dataframe(
        blank_na(rom, {c: "{:.0f}°" for c in rom.columns if c not in fixed} | {t("rom.readings"): "{:.0f}"}),
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(rom) + 1) + 3,  # the whole table, no scroll box inside the page
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
        t(
            "video.info",
            w=info.width,
            h=info.height,
            fps=f"{info.fps:.3g}",
            s=f"{info.duration_s:.1f}",
            n=len(analysis.raw),
            speed=f"{analysis.frames_per_second:.0f}",
            found=found,
            smoothing=render.smoothing.method,
            model=analysis.model.variant,
        )
    )
    if not analysis.complete:
        st.warning(
            t("video.partial", problem=analysis.problem, s=f"{info.duration_s:.1f}", n=info.frame_count),
            icon=":material/warning:",
        )
    if found == 0:
        st.warning(
            t("video.nobody"),
            icon=":material/person_off:",
        )
        return
    angles = job.cleaned_angles(render.smoothing, style.visibility_threshold)
    person = _person_picker_ui(series)
    st.subheader(t("chart.title"))
    row = 0
    if len(series) > 1:
        if st.session_state.get(state.VIDEO_FRAME, 0) > len(series) - 1:
            st.session_state[state.VIDEO_FRAME] = 0
        row = st.slider(
            t("frame.slider"),
            0,
            len(series) - 1,
            key=state.VIDEO_FRAME,
            format=t("frame.slider_format", last=len(series) - 1),
            help=t("frame.slider_help"),
        )
    dimension = _chart_ui(angles, person, row)
    reps = _repetitions_ui(angles, person, dimension, row)
    _frame_explorer_ui(job, series, person, row, style, reps)
    _range_of_motion_ui(angles, person)
    st.subheader(t("download.title"))
    _downloads_ui(name, job, render, reps)
