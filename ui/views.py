"""Result views: one image in depth, several images as a summary. Rendering only."""

from __future__ import annotations

import io
import math
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from pose_core.angles import ANGLE_SPECS, HEADLINE_ANGLES, SPEC_BY_NAME, AngleReading, pose_angles
from pose_core.crowd import CrowdSettings, support_score
from pose_core.drawing import DrawStyle, draw_overlay
from pose_core.export import ImageRecord, poses_table, safe_stem, to_csv, to_json, unique_names
from pose_core.images import encode_jpeg, encode_png, load_image
from pose_core.plots import skeleton_3d
from pose_core.types import PoseResult
from ui import state
from ui.posture_views import posture_ui
from ui.text import md_escape
from ui.widgets import InputImage

DIFFERENCE_FLAG_DEG = 15.0
ROW_PX = 35  # st.dataframe's row height


def _record(item: InputImage, outcome: state.Outcome) -> ImageRecord:
    return ImageRecord(source=item.name, analysis=outcome.analysis, error=outcome.error)


@dataclass(frozen=True)
class Download:
    label: str
    data: str | bytes | Callable[[], str | bytes]  # a callable is only run when clicked
    file_name: str
    mime: str
    icon: str
    key: str


def downloads_ui(*downloads: Download) -> None:
    """A row of equal-width download buttons (they stack in a narrow window)."""
    for column, d in zip(st.columns(len(downloads)), downloads, strict=True):
        column.download_button(
            d.label, data=d.data, file_name=d.file_name, mime=d.mime, icon=d.icon, width="stretch", key=d.key
        )


def overlay_for_download(item: InputImage, outcome: state.Outcome, style: DrawStyle) -> np.ndarray:
    """The overlay at the photo's resolution, or at state.APP_DECODE_PIXELS for larger
    photos (built only when downloaded)."""
    image = load_image(item.data, max_decode_pixels=state.APP_DECODE_PIXELS)
    poses = [p.resized(image.width, image.height) for p in (outcome.analysis.poses if outcome.analysis else ())]
    return draw_overlay(image.rgb, poses, style, [pose_angles(p) for p in poses])


# ---------------------------------------------------------------- one image


def angle_table(readings: Sequence[AngleReading], threshold: float) -> pd.DataFrame:
    """One row per angle: its reading in 2D and 3D, confidence, a note, and its definition."""
    rows = []
    for r in readings:
        notes = []
        if not r.confidence >= threshold:
            notes.append("low confidence: a landmark is probably hidden")
        if not math.isnan(r.difference) and r.difference > DIFFERENCE_FLAG_DEG:
            notes.append(f"⚠ 2D and 3D differ by {r.difference:.0f}°")
        spec = SPEC_BY_NAME[r.name]
        rows.append(
            {
                "Angle": spec.label,
                "2D": r.degrees_2d,
                "3D": r.degrees_3d,
                "Confidence": r.confidence,
                "Note": "; ".join(notes),
                "Definition": spec.definition,
            }
        )
    return pd.DataFrame(rows)


def angles_ui(pose: PoseResult, threshold: float, key: str | None = None) -> None:
    """The angle readout: a table whose rows below the visibility threshold are greyed."""
    table = angle_table(pose_angles(pose), threshold)
    low = table["Note"].str.contains("low confidence")
    styled = table.style.format({"2D": "{:.0f}°", "3D": "{:.0f}°", "Confidence": "{:.2f}"}, na_rep="–").apply(
        lambda row: ["color: #9a9a9a" if low[row.name] else "" for _ in row], axis=1
    )
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(table) + 1) + 3,  # every angle in view: no scroll box inside the page
        key=key,
        column_config={
            "Angle": st.column_config.TextColumn("Angle", width="small"),
            "2D": st.column_config.TextColumn("2D", width="small", help="In the image plane"),
            "3D": st.column_config.TextColumn("3D", width="small", help="From the world landmarks (metres)"),
            "Confidence": st.column_config.TextColumn("Conf.", width="small", help="Lowest visibility involved"),
            "Note": st.column_config.TextColumn("Note"),
            "Definition": st.column_config.TextColumn("Definition", width="large"),
        },
    )
    st.caption(
        f"2D: in the image plane; 3D: from world landmarks. ⚠ marks a 2D/3D gap over {DIFFERENCE_FLAG_DEG:.0f}° "
        "(the limb points towards or away from the camera); grey rows rely on a landmark with visibility below "
        "the threshold."
    )


def landmark_table_ui(pose: PoseResult, key: str) -> None:
    df = poses_table([pose]).drop(columns=["source", "frame", "time_s", "person"])
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        height=420,
        key=key,
        column_config={
            "index": st.column_config.NumberColumn("#", format="%d", width="small"),
            "name": st.column_config.TextColumn("Landmark"),
            "region": st.column_config.TextColumn("Region"),
            "side": st.column_config.TextColumn("Side", help="The person's own left or right"),
            "x_px": st.column_config.NumberColumn("x (px)", format="%.1f", help="Pixels from the left edge"),
            "y_px": st.column_config.NumberColumn("y (px)", format="%.1f", help="Pixels from the top edge"),
            "x": st.column_config.NumberColumn("x (norm.)", format="%.4f", help="0..1 of the image width"),
            "y": st.column_config.NumberColumn("y (norm.)", format="%.4f", help="0..1 of the image height"),
            "z": st.column_config.NumberColumn(
                "z (norm.)", format="%.4f", help="Depth relative to the hips, on x's scale; smaller = nearer"
            ),
            "world_x_m": st.column_config.NumberColumn("world x (m)", format="%.3f", help="Metres, right"),
            "world_y_m": st.column_config.NumberColumn("world y (m)", format="%.3f", help="Metres, down"),
            "world_z_m": st.column_config.NumberColumn("world z (m)", format="%.3f", help="Metres, away from camera"),
            "visibility": st.column_config.ProgressColumn(
                "Visibility", min_value=0.0, max_value=1.0, format="%.2f", help="Likely visible, not occluded"
            ),
            "presence": st.column_config.ProgressColumn(
                "Presence", min_value=0.0, max_value=1.0, format="%.2f", help="Likely inside the frame"
            ),
        },
    )


def _person_ui(pose: PoseResult, person: int, style: DrawStyle, key: str) -> None:
    st.caption(
        f"Person {person} · confidence {support_score(pose):.2f} (how visible and in frame their head, shoulders "
        f"and hips are; below {CrowdSettings().min_score} the pose is more guess than measurement)"
    )
    posture_ui(pose)
    left, right = st.columns([5, 6], gap="medium")
    with left:
        st.markdown("**Joint angles**")
        angles_ui(pose, style.visibility_threshold, key=f"{key}-angles")
    with right:
        st.markdown("**3D skeleton** (drag to rotate; metres, origin between the hips)")
        st.plotly_chart(
            skeleton_3d(pose, style.visibility_threshold, height=440), key=f"{key}-3d", config={"displaylogo": False}
        )
    st.markdown(f"**Landmarks** of person {person} (click a header to sort)")
    landmark_table_ui(pose, key=f"{key}-table")


def image_result_ui(item: InputImage, outcome: state.Outcome, style: DrawStyle) -> None:
    """The full view of one image: photo and skeleton, angles, 3D, table, downloads."""
    preview = outcome.display_rgb()
    if outcome.error or outcome.analysis is None or preview is None:
        st.error(
            f"**{md_escape(item.name)}** could not be analysed: {md_escape(outcome.error or '')}",
            icon=":material/broken_image:",
        )
        return
    analysis = outcome.analysis
    started = time.perf_counter()
    height, width = preview.shape[:2]
    preview_poses = [p.resized(width, height) for p in analysis.poses]
    overlay = draw_overlay(preview, preview_poses, style, [pose_angles(p) for p in analysis.poses])
    drawing_ms = (time.perf_counter() - started) * 1000

    left, right = st.columns(2)
    left.image(preview, caption=f"Original, {analysis.width}×{analysis.height} px", width="stretch")
    right.image(overlay, caption="Skeleton", width="stretch")
    timings = {**analysis.timings_ms, "drawing": drawing_ms}
    st.caption(
        " · ".join(f"{stage} {ms:.0f} ms" for stage, ms in timings.items())
        + f" · model {outcome.model.variant} · {len(analysis.poses)} person(s)"
    )

    record = _record(item, outcome)
    stem = safe_stem(item.name)
    downloads_ui(
        Download(
            "Overlay (PNG)",
            lambda: encode_png(overlay_for_download(item, outcome, style)),
            f"{stem}.overlay.png",
            "image/png",
            ":material/image:",
            f"dl-png-{outcome.digest}",
        ),
        Download(
            "Landmarks (CSV)",
            to_csv([record]),
            f"{stem}.landmarks.csv",
            "text/csv",
            ":material/table:",
            f"dl-csv-{outcome.digest}",
        ),
        Download(
            "Everything (JSON)",
            to_json([record], outcome.settings, outcome.model),
            f"{stem}.poses.json",
            "application/json",
            ":material/data_object:",
            f"dl-json-{outcome.digest}",
        ),
    )

    if not analysis.poses:
        st.warning(
            f"No person found in **{md_escape(item.name)}**. Try a photo where the person is larger and fully "
            "in frame, lower *Person detection* under *Confidence thresholds* in the sidebar, or the *heavy* model.",
            icon=":material/person_off:",
        )
        return
    key = f"res-{outcome.digest[:12]}"
    if len(analysis.poses) == 1:
        _person_ui(analysis.poses[0], 1, style, key)
    else:
        tabs = st.tabs([f"Person {i}" for i in range(1, len(analysis.poses) + 1)])
        for i, (tab, pose) in enumerate(zip(tabs, analysis.poses, strict=True), start=1):
            with tab:
                _person_ui(pose, i, style, f"{key}-p{i}")
    with st.expander("How each angle is defined"):
        st.markdown("\n".join(f"- **{s.label}**: {s.definition}" for s in ANGLE_SPECS))


# ---------------------------------------------------------------- several images


def summary_frame(items: Sequence[InputImage], outcomes: Sequence[state.Outcome], threshold: float) -> pd.DataFrame:
    """One row per image; an angle is left blank when its confidence is below ``threshold``
    (e.g. the knees of a portrait, which the model guesses from outside the frame)."""
    rows = []
    for item, outcome in zip(items, outcomes, strict=True):
        poses = outcome.analysis.poses if outcome.analysis else ()
        readings = pose_angles(poses[0]) if poses else ()
        angles = {r.name: r.degrees_2d for r in readings if r.confidence >= threshold}
        status = "ok" if poses else "no person found"
        if outcome.error:
            status = f"unreadable: {outcome.error}"
        rows.append(
            {
                "file": item.name,
                "people": len(poses),
                **{SPEC_BY_NAME[n].label: angles.get(n, math.nan) for n in HEADLINE_ANGLES},
                "status": status,
            }
        )
    return pd.DataFrame(rows)


def batch_zip(items: Sequence[InputImage], outcomes: Sequence[state.Outcome], style: DrawStyle) -> bytes:
    """Every readable image's overlay, plus one CSV and one JSON for the whole batch
    (the JSON maps each image to its overlay). Overlays are JPEG here (a tenth of a
    photo's PNG, so a batch's ZIP stays small) and are drawn and written one at a time,
    so at most one full-size overlay is in memory besides the ZIP."""
    names = unique_names([item.name for item in items], ".overlay.jpg")
    records = [
        ImageRecord(item.name, o.analysis, o.error, overlay=f"overlays/{name}" if o.analysis else None)
        for item, o, name in zip(items, outcomes, names, strict=True)
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for item, outcome, record in zip(items, outcomes, records, strict=True):
            if record.overlay is not None:  # JPEG is compressed already: stored, not deflated again
                overlay = encode_jpeg(overlay_for_download(item, outcome, style), quality=92)
                zf.writestr(record.overlay, overlay, compress_type=zipfile.ZIP_STORED)
        zf.writestr("landmarks.csv", to_csv(records))
        state.release_freed_memory()
        zf.writestr("poses.json", to_json(records, outcomes[0].settings, outcomes[0].model))
    return buf.getvalue()


def summary_ui(items: Sequence[InputImage], outcomes: Sequence[state.Outcome], style: DrawStyle) -> int:
    """A table of every image and a picker; returns the index of the image to open."""
    st.markdown(
        f"**{len(items)} images** · angles in degrees (2D, first person; blank where the joint is not "
        "visible enough, see *Visibility threshold*)"
    )
    st.dataframe(
        summary_frame(items, outcomes, style.visibility_threshold),
        hide_index=True,
        width="stretch",
        column_config={
            **{SPEC_BY_NAME[n].label: st.column_config.NumberColumn(format="%.0f°") for n in HEADLINE_ANGLES},
            "people": st.column_config.NumberColumn("people", format="%d"),
        },
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    labels = [f"{i + 1}. {item.name}" for i, item in enumerate(items)]
    chosen = left.selectbox("Open image", range(len(items)), format_func=lambda i: labels[i], key=state.OPEN_IMAGE)
    right.download_button(
        "All as ZIP",
        data=lambda: batch_zip(items, outcomes, style),
        file_name="poselab_batch.zip",
        mime="application/zip",
        icon=":material/folder_zip:",
        width="stretch",
        key="dl-zip",
    )
    return int(chosen or 0)
