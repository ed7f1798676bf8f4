"""Result views: one image in depth, several images as a summary. Rendering only."""

from __future__ import annotations

import dataclasses
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
from pose_core.schema import LANDMARKS
from pose_core.types import PoseResult
from ui import state
from ui.i18n import angle_definition, angle_label, has, landmark_name, landmark_names, t
from ui.layout import blank_na
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
            d.label,
            data=d.data,
            file_name=d.file_name,
            mime=d.mime,
            icon=d.icon,
            width="stretch",
            key=d.key,
            on_click=state.DOWNLOAD_CLICK,
        )


def overlay_for_download(item: InputImage, outcome: state.Outcome, style: DrawStyle) -> np.ndarray:
    """The overlay at the photo's resolution, or at state.APP_DECODE_PIXELS for larger
    photos (built only when downloaded)."""
    image = load_image(item.data, max_decode_pixels=state.APP_DECODE_PIXELS)
    poses = [p.resized(image.width, image.height) for p in (outcome.analysis.poses if outcome.analysis else ())]
    return draw_overlay(image.rgb, poses, style, [pose_angles(p) for p in poses])


# ---------------------------------------------------------------- one image


def with_highlight(style: DrawStyle, landmarks: Sequence[int] = (), person: int | None = None) -> DrawStyle:
    """``style`` with these landmarks (and this person, 1-based) highlighted on the overlay."""
    wanted = {"highlight_landmarks": tuple(landmarks), "highlight_person": person}
    known = {f.name for f in dataclasses.fields(DrawStyle)}
    return dataclasses.replace(style, **{k: v for k, v in wanted.items() if k in known})


def selected_rows(key: str) -> list[int]:
    """The rows selected in the dataframe with this key (read before it is drawn again,
    so that a selection highlights the pictures above it)."""
    kept = st.session_state.get(key)
    try:
        return [int(r) for r in kept["selection"]["rows"]] if kept else []
    except (KeyError, TypeError):
        return []


@dataclass(frozen=True)
class Highlight:
    """What the reader picked: landmarks (table rows) and angles (angle rows)."""

    landmarks: tuple[int, ...] = ()
    angles: tuple[str, ...] = ()

    @property
    def indices(self) -> tuple[int, ...]:
        from_angles = (i for name in self.angles for i in SPEC_BY_NAME[name].landmark_indices)
        return tuple(dict.fromkeys((*self.landmarks, *from_angles)))

    def styled(self, style: DrawStyle, person: int | None) -> DrawStyle:
        style = with_highlight(style, self.indices, person)
        if self.angles:  # the chosen angles' arcs, with the others the reader asked for
            shown = style.angle_names if style.show_angles else ()
            style = dataclasses.replace(
                style, show_angles=True, angle_names=tuple(dict.fromkeys((*shown, *self.angles)))
            )
        return style

    def describe(self) -> str:
        names = [landmark_name(LANDMARKS[i].name) for i in self.landmarks] + [angle_label(a) for a in self.angles]
        return ", ".join(names)


def _note(reading: AngleReading, threshold: float) -> str:
    notes = []
    if not reading.confidence >= threshold:
        notes.append(t("angles.note_low"))
    if not math.isnan(reading.difference) and reading.difference > DIFFERENCE_FLAG_DEG:
        notes.append(t("angles.note_gap", deg=f"{reading.difference:.0f}"))
    return "; ".join(notes)


def angle_table(readings: Sequence[AngleReading], threshold: float) -> pd.DataFrame:
    """One row per angle: its reading in 2D and 3D, confidence, a note, and its definition
    (columns named in the reader's language)."""
    rows = [
        {
            t("angles.col_angle"): angle_label(r.name),
            "2D": r.degrees_2d,
            "3D": r.degrees_3d,
            t("angles.col_confidence"): r.confidence,
            t("angles.col_note"): _note(r, threshold),
            t("angles.col_definition"): angle_definition(r.name),
        }
        for r in readings
    ]
    return pd.DataFrame(rows)


def angles_ui(pose: PoseResult, threshold: float, key: str | None = None) -> list[str]:
    """The angle readout: a table whose rows below the visibility threshold are greyed.
    With a ``key``, rows can be selected (tapped): returns the chosen angles' names, and
    shows their definitions in full below the table."""
    readings = pose_angles(pose)
    table = angle_table(readings, threshold)
    low = [not r.confidence >= threshold for r in readings]
    conf = t("angles.col_confidence")
    styled = table.style.format({"2D": "{:.0f}°", "3D": "{:.0f}°", conf: "{:.2f}"}, na_rep="–").apply(
        lambda row: ["color: #9a9a9a" if low[row.name] else "" for _ in row], axis=1
    )
    selectable = {"on_select": "rerun", "selection_mode": "multi-row"} if key else {}
    event = st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(table) + 1) + 3,  # every angle in view: no scroll box inside the page
        key=key,
        column_config={
            t("angles.col_angle"): st.column_config.TextColumn(width="small"),
            "2D": st.column_config.TextColumn(width="small", help=t("angles.help_2d")),
            "3D": st.column_config.TextColumn(width="small", help=t("angles.help_3d")),
            conf: st.column_config.TextColumn(t("angles.col_conf_short"), width="small", help=t("angles.help_conf")),
            t("angles.col_note"): st.column_config.TextColumn(),
            t("angles.col_definition"): st.column_config.TextColumn(width="large"),
        },
        **selectable,
    )
    st.caption(t("angles.caption", deg=f"{DIFFERENCE_FLAG_DEG:.0f}") + (" " + t("angles.tap") if key else ""))
    if not key:
        return []
    chosen = [readings[i].name for i in event.selection.rows if 0 <= i < len(readings)]
    for name in chosen:  # a definition in full, readable without hover (projector, touch screen)
        reading = next(r for r in readings if r.name == name)
        value = "–" if math.isnan(reading.degrees_2d) else f"{reading.degrees_2d:.0f}°"
        value3 = "–" if math.isnan(reading.degrees_3d) else f"{reading.degrees_3d:.0f}°"
        st.info(
            f"**{angle_label(name)}**: {value} (2D) · {value3} (3D). {angle_definition(name)}",
            icon=":material/straighten:",
        )
    return chosen


def _table_labels() -> dict[str, st.column_config.Column]:
    number = st.column_config.NumberColumn
    return {
        "index": number("#", format="%d", width="small"),
        "name": st.column_config.TextColumn(t("table.landmark")),
        "region": st.column_config.TextColumn(t("table.region")),
        "side": st.column_config.TextColumn(t("table.side"), help=t("table.help_side")),
        "x_px": number(t("table.x_px"), format="%.1f", help=t("table.help_x_px")),
        "y_px": number(t("table.y_px"), format="%.1f", help=t("table.help_y_px")),
        "x": number(t("table.x"), format="%.4f", help=t("table.help_x")),
        "y": number(t("table.y"), format="%.4f", help=t("table.help_y")),
        "z": number(t("table.z"), format="%.4f", help=t("table.help_z")),
        "world_x_m": number(t("table.world_x"), format="%.3f", help=t("table.help_world_x")),
        "world_y_m": number(t("table.world_y"), format="%.3f", help=t("table.help_world_y")),
        "world_z_m": number(t("table.world_z"), format="%.3f", help=t("table.help_world_z")),
        "visibility": st.column_config.ProgressColumn(
            t("table.visibility"), min_value=0.0, max_value=1.0, format="%.2f", help=t("table.help_visibility")
        ),
        "presence": st.column_config.ProgressColumn(
            t("table.presence"), min_value=0.0, max_value=1.0, format="%.2f", help=t("table.help_presence")
        ),
    }


def landmark_table_ui(pose: PoseResult, key: str, selectable: bool = False) -> list[int]:
    """The 33 landmarks; with ``selectable``, rows can be picked: returns their indices."""
    df = poses_table([pose]).drop(columns=["source", "frame", "time_s", "person"])
    df["name"] = df["name"].map(landmark_name)
    df["region"] = df["region"].map(lambda v: t(f"region.{v}"))
    df["side"] = df["side"].map(lambda v: t(f"side.{v}"))
    options = {"on_select": "rerun", "selection_mode": "multi-row"} if selectable else {}
    event = st.dataframe(
        df, hide_index=True, width="stretch", height=420, key=key, column_config=_table_labels(), **options
    )
    return [int(df["index"].iloc[i]) for i in event.selection.rows] if selectable else []


def _three_d_ui(pose: PoseResult, person: int | None, style: DrawStyle, key: str, highlight: Highlight) -> None:
    figure = skeleton_3d(
        pose, style.visibility_threshold, height=440, highlight=highlight.indices, person=person, names=landmark_names()
    )
    sides = {s: t(f"side.{s}") for s in ("left", "right", "center")} | {"selected": t("three_d.selected")}
    figure.for_each_trace(lambda tr: tr.update(name=sides.get(tr.name, tr.name)))
    legend = t("three_d.legend") if person is None else t("three_d.legend_person", person=person)
    figure.update_layout(legend_title_text=legend)
    st.plotly_chart(figure, key=key, config={"displaylogo": False})


def _person_ui(pose: PoseResult, person: int, style: DrawStyle, key: str, highlight: Highlight) -> None:
    st.caption(t("person.caption", person=person, score=f"{support_score(pose):.2f}", min=CrowdSettings().min_score))
    posture_ui(pose)
    left, right = st.columns([5, 6], gap="medium")
    with left:
        st.markdown(f"**{t('angles.title')}**")
        angles_ui(pose, style.visibility_threshold, key=f"{key}-angles")
    with right:
        st.markdown(t("three_d.title"))
        _three_d_ui(pose, person, style, f"{key}-3d", highlight)
    st.markdown(t("table.title", person=person))
    landmark_table_ui(pose, key=f"{key}-table", selectable=True)


def _person_key(key: str) -> str:
    return f"{key}-person"


def image_result_ui(
    item: InputImage, outcome: state.Outcome, style: DrawStyle, after_pictures: Callable[[], None] | None = None
) -> None:
    """The full view of one image: photo and skeleton, angles, 3D, table, downloads.
    Selecting landmark or angle rows, or a person, highlights them in the picture and in
    3D; nothing of it runs the model. ``after_pictures`` draws what comes right under
    the pictures (a batch's summary), so the pictures stay in the first screen."""
    preview = outcome.display_rgb()
    if outcome.error or outcome.analysis is None or preview is None:
        if after_pictures is not None:
            after_pictures()
        st.error(
            t("image.unreadable", name=md_escape(item.name), reason=md_escape(outcome.error or "")),
            icon=":material/broken_image:",
        )
        return
    analysis = outcome.analysis
    key = f"res-{outcome.digest[:12]}"
    people = len(analysis.poses)
    # The choices made below the pictures, read first so the pictures show them.
    person = int(st.session_state.get(_person_key(key)) or 1) if people > 1 else 1
    person = min(max(person, 1), max(people, 1))
    person_key = f"{key}-p{person}" if people > 1 else key
    highlight = Highlight(
        tuple(int(i) for i in selected_rows(f"{person_key}-table") if 0 <= i < len(LANDMARKS)),
        tuple(ANGLE_SPECS[i].name for i in selected_rows(f"{person_key}-angles") if 0 <= i < len(ANGLE_SPECS)),
    )
    chosen_person = person if people > 1 else None
    started = time.perf_counter()
    height, width = preview.shape[:2]
    preview_poses = [p.resized(width, height) for p in analysis.poses]
    drawn_style = highlight.styled(style, chosen_person) if people else style
    overlay = draw_overlay(preview, preview_poses, drawn_style, [pose_angles(p) for p in analysis.poses])
    drawing_ms = (time.perf_counter() - started) * 1000

    with st.container(key="pictures"):
        left, right = st.columns(2)
        left.image(preview, caption=t("image.original", w=analysis.width, h=analysis.height), width="stretch")
        shown = highlight.describe()
        right.image(
            overlay,
            caption=t("image.skeleton") + (f" · {t('image.highlighted', what=shown)}" if shown else ""),
            width="stretch",
        )
    timings = {**analysis.timings_ms, "drawing": drawing_ms}
    st.caption(
        " · ".join(f"{t('timing.' + s) if has('timing.' + s) else s} {ms:.0f} ms" for s, ms in timings.items())
        + f" · {t('image.model', model=outcome.model.variant)} · {t('image.people', n=people)}"
    )
    if after_pictures is not None:
        after_pictures()

    record = _record(item, outcome)
    stem = safe_stem(item.name)
    downloads_ui(
        Download(
            t("download.overlay_png"),
            lambda: encode_png(overlay_for_download(item, outcome, style)),
            f"{stem}.overlay.png",
            "image/png",
            ":material/image:",
            f"dl-png-{outcome.digest}",
        ),
        Download(
            t("download.landmarks_csv"),
            to_csv([record]),
            f"{stem}.landmarks.csv",
            "text/csv",
            ":material/table:",
            f"dl-csv-{outcome.digest}",
        ),
        Download(
            t("download.everything_json"),
            to_json([record], outcome.settings, outcome.model),
            f"{stem}.poses.json",
            "application/json",
            ":material/data_object:",
            f"dl-json-{outcome.digest}",
        ),
    )

    if not analysis.poses:
        st.warning(t("image.nobody", name=md_escape(item.name)), icon=":material/person_off:")
        return
    if people > 1:
        st.segmented_control(
            t("person.pick"),
            range(1, people + 1),
            default=1,
            required=True,
            key=_person_key(key),
            format_func={p: t("person.label", person=p) for p in range(1, people + 1)}.__getitem__,
            help=t("person.pick_help"),
        )
    _person_ui(analysis.poses[person - 1], person, style, person_key, highlight)
    with st.expander(t("angles.all_definitions"), icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{angle_label(s.name)}**: {angle_definition(s.name)}" for s in ANGLE_SPECS))


# ---------------------------------------------------------------- several images


def summary_frame(items: Sequence[InputImage], outcomes: Sequence[state.Outcome], threshold: float) -> pd.DataFrame:
    """One row per image, its status first; an angle is left blank when its confidence is
    below ``threshold`` (e.g. the knees of a portrait, which the model guesses from outside
    the frame). Columns: status, file, people, then the headline angles by their labels."""
    rows = []
    for item, outcome in zip(items, outcomes, strict=True):
        poses = outcome.analysis.poses if outcome.analysis else ()
        readings = pose_angles(poses[0]) if poses else ()
        angles = {r.name: r.degrees_2d for r in readings if r.confidence >= threshold}
        status = t("summary.ok") if poses else t("summary.nobody")
        if outcome.error:
            status = t("summary.unreadable", reason=outcome.error)
        rows.append(
            {
                "status": status,
                "file": item.name,
                "people": len(poses),
                **{angle_label(n): angles.get(n, math.nan) for n in HEADLINE_ANGLES},
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


def batch_picker_ui(items: Sequence[InputImage], outcomes: Sequence[state.Outcome], style: DrawStyle) -> int:
    """Which image of a batch to open, and the whole batch as a ZIP; returns the index."""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    labels = [f"{i + 1}. {item.name}" for i, item in enumerate(items)]
    chosen = left.selectbox(t("summary.open"), range(len(items)), format_func=labels.__getitem__, key=state.OPEN_IMAGE)
    right.download_button(
        t("summary.zip"),
        data=lambda: batch_zip(items, outcomes, style),
        file_name="poselab_batch.zip",
        mime="application/zip",
        icon=":material/folder_zip:",
        width="stretch",
        key="dl-zip",
        on_click=state.DOWNLOAD_CLICK,
    )
    return int(chosen or 0)


def summary_ui(items: Sequence[InputImage], outcomes: Sequence[state.Outcome], style: DrawStyle) -> None:
    """Every image of a batch with its status first (also counted in the heading, so a
    phone shows it without scrolling sideways); open when something went wrong."""
    frame = summary_frame(items, outcomes, style.visibility_threshold)
    counts = frame["status"].map(lambda v: v.split(":")[0].split("：")[0]).value_counts()
    problems = any(o.error or not (o.analysis and o.analysis.poses) for o in outcomes)
    label = t("summary.title", n=len(items)) + " · " + " · ".join(f"{n} {s}" for s, n in counts.items())
    with st.expander(label, expanded=problems, icon=":material/table_rows:"):
        st.caption(t("summary.caption"))
        angle_columns = [angle_label(n) for n in HEADLINE_ANGLES]
        st.dataframe(
            blank_na(frame, {c: "{:.0f}°" for c in angle_columns}),
            hide_index=True,
            width="stretch",
            column_config={
                "status": st.column_config.TextColumn(t("summary.status")),
                "file": st.column_config.TextColumn(t("summary.file")),
                "people": st.column_config.NumberColumn(t("summary.people"), format="%d", width="small"),
            },
        )
