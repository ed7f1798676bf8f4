"""The Compare page's views: two photos, or two videos (a reference and another), compared."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from pose_core.compare import (
    ComparisonError,
    JointDifference,
    SeriesComparison,
    aligned_pose,
    compare_poses,
    compare_series,
    joints_table,
    side_by_side,
    side_by_side_video,
)
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.errors import VideoLoadError
from pose_core.export import table_csv
from pose_core.images import SUPPORTED_EXTENSIONS, decode_preview
from pose_core.motion import clean_angles
from pose_core.plots import skeletons_3d
from pose_core.repetitions import count_repetitions
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing
from pose_core.types import PoseResult, PoseSettings
from pose_core.video import VideoJob
from pose_core.video_io import VIDEO_EXTENSIONS
from ui import state
from ui.i18n import angle_label, t
from ui.text import md_escape
from ui.video_views import progress_ui
from ui.views import ROW_PX, Download, downloads_ui

REFERENCE_STYLE = DrawStyle(joint_color=(30, 90, 220), bone_color=(120, 180, 255), number_people=False)
OTHER_STYLE = DrawStyle(joint_color=(230, 110, 0), bone_color=(255, 190, 60), number_people=False)
REFERENCE_COLOR, OTHER_COLOR = "#4e79a7", "#f28e2b"
MAKE = "compare-make-video-requested"


def _request(flag: str) -> None:
    # NOTE: a flag set by the button's callback outlives a re-run of the page (see
    # ui.posture_views), which the button's own one-run value does not.
    st.session_state[flag] = True


def _joints_frame(joints: tuple[JointDifference, ...]) -> pd.DataFrame:
    table = joints_table(joints)
    table["name"] = table["name"].map(angle_label)
    for column in ("reference_degrees", "other_degrees", "difference_degrees"):
        table[column] = table[column].round(0) + 0.0  # whole degrees, as shown: never "-0°"
    return table.rename(
        columns={
            "name": t("compare.joint"),
            "reference_degrees": t("compare.reference_deg"),
            "other_degrees": t("compare.other_deg"),
            "difference_degrees": t("compare.difference_deg"),
        }
    )


def _joints_ui(joints: tuple[JointDifference, ...]) -> None:
    st.markdown(t("compare.joints_title"))
    table = _joints_frame(joints)
    degrees = st.column_config.NumberColumn(format="%.0f°")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(table) + 1) + 3,
        column_config={c: degrees for c in table.columns if c != t("compare.joint")},
    )


def _score_ui(score: float, of_pairs: bool) -> None:
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.metric(t("compare.similarity"), t("compare.na") if np.isnan(score) else f"{score:.0f} / 100")
    right.caption(t("compare.score_pairs" if of_pairs else "compare.score"))


def _pick(poses: tuple[PoseResult, ...], label: str, key: str) -> PoseResult | None:
    if not poses:
        st.warning(t("compare.nobody", what=label), icon=":material/person_off:")
        return None
    if len(poses) == 1:
        return poses[0]
    person = st.selectbox(
        t("compare.person_in", what=label),
        range(1, len(poses) + 1),
        key=key,
        format_func={p: t("person.label", person=p) for p in range(1, len(poses) + 1)}.__getitem__,
    )
    return poses[person - 1]


def photos_ui(settings: PoseSettings, style: DrawStyle) -> None:
    types = [ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS]
    left, right = st.columns(2)
    reference = left.file_uploader(t("compare.reference_photo"), type=types, key=state.COMPARE_REFERENCE)
    other = right.file_uploader(t("compare.other_photo"), type=types, key=f"{state.COMPARE_OTHER}-photo")
    if reference is None or other is None:
        st.info(t("compare.empty_photos"), icon=":material/compare:")
        return
    outcomes = [state.analyze_bytes(f.getvalue(), settings) for f in (reference, other)]
    for f, outcome in zip((reference, other), outcomes, strict=True):
        if outcome.error:
            st.error(
                t("image.unreadable", name=md_escape(f.name), reason=md_escape(outcome.error)),
                icon=":material/broken_image:",
            )
            return
    chosen = [
        _pick(o.analysis.poses if o.analysis else (), label, f"compare-person-{n}")
        for n, (o, label) in enumerate(zip(outcomes, (t("compare.the_reference"), t("compare.the_other")), strict=True))
    ]
    ref_pose, other_pose = chosen
    if ref_pose is None or other_pose is None:
        return
    try:
        comparison = compare_poses(ref_pose, other_pose)
    except ComparisonError as exc:
        st.error(t("compare.cannot", reason=md_escape(str(exc))), icon=":material/error:")
        return
    _score_ui(comparison.score, of_pairs=False)
    picture, view3d = st.columns(2, gap="medium")
    rgb = outcomes[0].display_rgb()
    assert rgb is not None
    height, width = rgb.shape[:2]
    drawn = draw_overlay(rgb, [ref_pose.resized(width, height)], REFERENCE_STYLE)
    moved = aligned_pose(comparison, ref_pose, other_pose).resized(width, height)
    drawn = draw_overlay(drawn, [moved], OTHER_STYLE)
    picture.image(
        drawn,
        width="stretch",
        caption=t("compare.overlay_caption"),
    )
    with view3d:
        st.plotly_chart(
            skeletons_3d(
                [
                    (t("compare.reference"), comparison.reference_world, REFERENCE_COLOR),
                    (t("compare.other_aligned"), comparison.other_world_aligned, OTHER_COLOR),
                ],
                [ref_pose.visibility, other_pose.visibility],
                height=420,
            ),
            key="compare-3d",
            config={"displaylogo": False},
        )
        st.caption(t("compare.three_d"))
    _joints_ui(comparison.joints)
    doc = {"kind": "photos", "reference": reference.name, "other": other.name, **comparison.as_dict()}
    downloads_ui(
        Download(
            t("download.compare_json"),
            lambda: json.dumps(doc, indent=1),
            "compare.json",
            "application/json",
            ":material/data_object:",
            "dl-compare-json",
        ),
        Download(
            t("download.joints_csv"),
            lambda: table_csv(joints_table(comparison.joints)),
            "compare.joints.csv",
            "text/csv",
            ":material/table:",
            "dl-compare-csv",
        ),
    )


def _video_series(
    upload: st.runtime.uploaded_file_manager.UploadedFile, settings: PoseSettings
) -> tuple[VideoJob, PoseSeries] | None:
    data = upload.getvalue()
    job = state.video_job(state.upload_digest(upload.file_id, data), settings, 1)
    smoothing, style = Smoothing(), DrawStyle()
    render = job.kept(smoothing, style, video=False)
    if render is None:
        progress, done, say = progress_ui()
        try:
            with state.video_slot(waiting=lambda: say(t("video.waiting"))):
                render = job.render(data, smoothing, style, video=False, progress=progress)
        except VideoLoadError as exc:
            done()
            st.error(
                t("video.unreadable", name=md_escape(upload.name), reason=md_escape(str(exc))),
                icon=":material/broken_image:",
            )
            return None
        done()
    return job, render.series


def _spans_frame(spans: tuple, first: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{first: s.label, "From (s)": s.start_s, "To (s)": s.end_s, "Score": s.score} for s in spans],
        columns=[first, "From (s)", "To (s)", "Score"],
    )


def _preview(job: VideoJob, series: PoseSeries, t: int, style: DrawStyle) -> np.ndarray:
    rgb = decode_preview(job.previews[t])
    height, width = rgb.shape[:2]
    return draw_overlay(rgb, [p.resized(width, height) for p in series.poses_at(t)], style)


def videos_ui(settings: PoseSettings) -> None:
    types = [ext.lstrip(".") for ext in VIDEO_EXTENSIONS]
    left, right = st.columns(2)
    reference = left.file_uploader(t("compare.reference_video"), type=types, key=f"{state.COMPARE_REFERENCE}-video")
    other = right.file_uploader(t("compare.other_video"), type=types, key=f"{state.COMPARE_OTHER}-video")
    window_s = st.slider(
        t("compare.window"),
        0.5,
        10.0,
        3.0,
        0.5,
        key="compare-window",
        help=t("compare.window_help"),
    )
    if reference is None or other is None:
        st.info(t("compare.empty_videos"), icon=":material/compare:")
        return
    analysed = [_video_series(f, settings) for f in (reference, other)]
    if analysed[0] is None or analysed[1] is None:
        return
    (ref_job, ref_series), (other_job, other_series) = analysed
    reps = count_repetitions(clean_angles(ref_series, Smoothing(method="none")))
    try:
        result: SeriesComparison = compare_series(
            ref_series, other_series, window_s=window_s, reference_repetitions=reps
        )
    except ComparisonError as exc:
        st.error(t("compare.cannot", reason=md_escape(str(exc))), icon=":material/error:")
        return
    _score_ui(result.score, of_pairs=True)
    st.caption(t("compare.dtw"))
    st.markdown(t("compare.side_by_side"))
    row = (
        st.slider(t("compare.reference_frame"), 0, len(ref_series) - 1, 0, key=state.COMPARE_FRAME)
        if len(ref_series) > 1
        else 0
    )
    u = result.other_frame_for(row)
    st.image(
        side_by_side(
            _preview(ref_job, ref_series, row, REFERENCE_STYLE), _preview(other_job, other_series, u, OTHER_STYLE)
        ),
        caption=t("compare.frame_caption", ref=f"{ref_series.time_s[row]:.2f}", other=f"{other_series.time_s[u]:.2f}"),
        width="stretch",
    )
    key = (reference.file_id, other.file_id, window_s)
    kept = st.session_state.get(state.COMPARE_SYNC_VIDEO)
    if kept is not None and kept[0] == key:
        st.video(kept[1], format="video/mp4")
    elif st.button(
        t("compare.make_video"), icon=":material/movie:", key="compare-make-video", on_click=_request, args=(MAKE,)
    ) | st.session_state.pop(MAKE, False):
        fps = ref_series.time_s.size / max(float(ref_series.time_s[-1] - ref_series.time_s[0]), 1e-9)
        with st.spinner(t("compare.drawing")):
            mp4 = side_by_side_video(
                (
                    (
                        _preview(ref_job, ref_series, i, REFERENCE_STYLE),
                        _preview(other_job, other_series, result.other_frame_for(i), OTHER_STYLE),
                    )
                    for i in range(len(ref_series))
                ),
                fps,
            )
        st.session_state[state.COMPARE_SYNC_VIDEO] = (key, mp4)
        st.video(mp4, format="video/mp4")
    columns = st.columns(2)
    for column, (spans, first, title) in zip(
        columns,
        (
            (result.segments, t("compare.segment"), t("compare.per_segment")),
            (result.repetitions, t("compare.repetition"), t("compare.per_repetition")),
        ),
        strict=True,
    ):
        with column:
            st.markdown(f"**{title}**")
            if not spans:
                st.caption(t("compare.no_reps", note=reps.note))
                continue
            table = _spans_frame(spans, first)
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                height=ROW_PX * (len(table) + 1) + 3,
                column_config={
                    "Score": st.column_config.NumberColumn(t("compare.score_col"), format="%.0f"),
                    "From (s)": st.column_config.NumberColumn(t("compare.from_s"), format="%.1f"),
                    "To (s)": st.column_config.NumberColumn(t("compare.to_s"), format="%.1f"),
                },
            )
    _joints_ui(result.joints)
    doc = {"kind": "videos", "reference": reference.name, "other": other.name, **result.as_dict()}
    downloads_ui(
        Download(
            t("download.compare_json"),
            lambda: json.dumps(doc, separators=(",", ":")),
            "compare.json",
            "application/json",
            ":material/data_object:",
            "dl-compare-video-json",
        ),
    )


def compare_page_ui(settings: PoseSettings, style: DrawStyle) -> None:
    mode = st.segmented_control(
        t("compare.mode"),
        ["Two photos", "Two videos"],
        default="Two photos",
        key=state.COMPARE_MODE,
        format_func={"Two photos": t("compare.two_photos"), "Two videos": t("compare.two_videos")}.__getitem__,
    )
    if mode == "Two videos":
        videos_ui(settings)
    else:
        photos_ui(settings, style)
