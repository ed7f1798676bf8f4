"""Input widgets: the sidebar settings and the image sources. Each ``*_ui`` returns values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from pose_core.angles import ANGLE_SPECS, AngleKind
from pose_core.drawing import DrawStyle
from pose_core.images import SUPPORTED_EXTENSIONS, peek_size
from pose_core.models import VARIANTS
from pose_core.smoothing import METHODS, Smoothing
from pose_core.types import MAX_POSES_LIMIT, PoseSettings
from ui import state
from ui.i18n import t
from ui.text import md_escape

DEFAULT_SETTINGS = PoseSettings()
DEFAULT_STYLE = DrawStyle()
DEFAULT_SMOOTHING = Smoothing()

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
SAMPLES: dict[str, Path] = {
    "Astronaut": SAMPLES_DIR / "astronaut.jpg",
    "Grace Hopper": SAMPLES_DIR / "grace_hopper.jpg",
}
SOURCES = ("Upload", "Sample", "Camera")
ARC_ANGLES = tuple(s.name for s in ANGLE_SPECS if s.kind is AngleKind.JOINT and s.name != "neck")


@dataclass(frozen=True)
class InputImage:
    name: str
    data: bytes
    digest: str  # sha256 of data, computed once per upload


def _rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def _hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def settings_sidebar_ui(
    segmentation: bool = True, *, default_model: str = DEFAULT_SETTINGS.model, crowd_search: bool = True
) -> tuple[PoseSettings, DrawStyle]:
    """Inference settings (change what the model returns) and display style (never re-run it).

    ``segmentation``: offer the mask toggle (the video pipeline draws no masks).
    ``default_model``: the page's own default (Live prefers lite). ``crowd_search``:
    offer *Find everyone* (Live follows people with the landmarker's tracking only).

    Every setting that matters for a lesson is bound to a query parameter named by its
    key (``?model=lite&visibility_threshold=0.3&lang=zh``): a shared link opens the same way.
    """
    shared = {"bind": "query-params", "persist_state": "session"}
    with st.sidebar:
        st.subheader(t("settings.model"))
        model = st.selectbox(
            t("settings.variant"),
            list(VARIANTS),
            index=list(VARIANTS).index(default_model),
            help=t("settings.variant_help", **{v: t(f"model.desc.{v}") for v in VARIANTS}),
            # A page with another default gets its own key: one key with two defaults
            # would carry one page's choice into the other as if it were the default.
            key=state.MODEL if default_model == DEFAULT_SETTINGS.model else f"{state.MODEL}-{default_model}",
            **shared,
        )
        st.caption(t(f"model.desc.{model}"))
        max_poses = st.number_input(
            t("settings.max_people"),
            min_value=1,
            max_value=MAX_POSES_LIMIT,
            value=DEFAULT_SETTINGS.max_poses,
            key=state.MAX_POSES,
            help=t("settings.max_people_help"),
            **shared,
        )
        many = int(max_poses) > 1
        crowd = crowd_search and st.toggle(
            t("settings.crowd"),
            value=many,
            key=f"{state.CROWD}-{'on' if many else 'off'}",
            help=t("settings.crowd_help"),
            **shared,
        )
        with st.expander(t("settings.thresholds")):
            detection = st.slider(
                t("settings.detection"),
                0.0,
                1.0,
                DEFAULT_SETTINGS.min_detection_confidence,
                0.05,
                key=state.MIN_DETECTION,
                help=t("settings.detection_help"),
                **shared,
            )
            presence = st.slider(
                t("settings.presence"),
                0.0,
                1.0,
                DEFAULT_SETTINGS.min_presence_confidence,
                0.05,
                key=state.MIN_PRESENCE,
                help=t("settings.presence_help"),
                **shared,
            )
            tracking = st.slider(
                t("settings.tracking"),
                0.0,
                1.0,
                DEFAULT_SETTINGS.min_tracking_confidence,
                0.05,
                key=state.MIN_TRACKING,
                help=t("settings.tracking_help"),
                **shared,
            )
        masks = segmentation and st.toggle(
            t("settings.mask"), key=state.SEGMENTATION, help=t("settings.mask_help"), **shared
        )

        st.subheader(t("settings.display"))
        st.caption(t("settings.display_caption"))
        threshold = st.slider(
            t("settings.visibility"),
            0.0,
            1.0,
            DEFAULT_STYLE.visibility_threshold,
            0.05,
            key=state.VISIBILITY_THRESHOLD,
            help=t("settings.visibility_help"),
            **shared,
        )
        left, right = st.columns(2)
        joint_color = left.color_picker(
            t("settings.joints"), _rgb_to_hex(DEFAULT_STYLE.joint_color), key=state.JOINT_COLOR, **shared
        )
        bone_color = right.color_picker(
            t("settings.bones"), _rgb_to_hex(DEFAULT_STYLE.bone_color), key=state.BONE_COLOR, **shared
        )
        line = st.select_slider(
            t("settings.line_width"),
            options=["auto", *range(1, 13)],
            value="auto",
            key=state.LINE_WIDTH,
            **shared,
        )
        arcs = st.toggle(t("settings.arcs"), key=state.ANGLE_ARCS, **shared)

    settings = PoseSettings(
        model=model,
        max_poses=int(max_poses),
        min_detection_confidence=detection,
        min_presence_confidence=presence,
        min_tracking_confidence=tracking,
        segmentation_masks=masks,
        crowd=crowd,
    )
    style = DrawStyle(
        joint_color=_hex_to_rgb(joint_color),
        bone_color=_hex_to_rgb(bone_color),
        line_thickness=None if line == "auto" else int(line),
        joint_radius=None if line == "auto" else max(2, int(line) * 2),
        visibility_threshold=threshold,
        show_mask=masks,
        show_angles=arcs,
        angle_names=ARC_ANGLES,
    )
    return settings, style


def image_inputs_ui() -> list[InputImage]:
    """The images to analyse, from whichever source is chosen; analysis starts on arrival.
    Kept compact (the container keyed "inputs"), so the pictures below stay in view."""
    with st.container(key="inputs"):
        source = st.radio(
            t("inputs.source"),
            SOURCES,
            horizontal=True,
            key=state.SOURCE,
            label_visibility="collapsed",
            format_func={s: t(f"inputs.{s.lower()}") for s in SOURCES}.__getitem__,
        )
        if source == "Sample":
            names = st.pills(
                t("inputs.samples"),
                list(SAMPLES),
                selection_mode="multi",
                default=["Astronaut"],
                key=state.SAMPLE,
                format_func={n: t(f"inputs.sample_photo.{n.lower().replace(' ', '_')}") for n in SAMPLES}.__getitem__,
                help=t("inputs.samples_help"),
            )
            return [_sample(name) for name in names or []]
        if source == "Camera":
            shot = st.camera_input(t("inputs.snapshot"), key=state.CAMERA, help=t("inputs.snapshot_help"))
            return [_uploaded("camera_snapshot.jpg", shot)] if shot else []
        files = st.file_uploader(
            t("inputs.drop"),
            type=[ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS],
            accept_multiple_files=True,
            key=state.UPLOADER,
            help=t("inputs.drop_help"),
            label_visibility="collapsed",
        )
        return [_uploaded(f.name, f) for f in files or []]


def _uploaded(name: str, upload: UploadedFile) -> InputImage:
    data = upload.getvalue()
    return InputImage(name, data, state.upload_digest(upload.file_id, data))


@st.cache_resource
def _sample(name: str) -> InputImage:
    data = SAMPLES[name].read_bytes()
    return InputImage(f"{name.lower().replace(' ', '_')}.jpg", data, hashlib.sha256(data).hexdigest())


def smoothing_help(method: str) -> str:
    return t(f"video.smoothing.{method}", hz=f"{DEFAULT_SMOOTHING.cutoff_hz:g}")


def video_settings_ui() -> tuple[int, Smoothing]:
    """Sidebar settings that only videos have: frame stride and smoothing."""
    with st.sidebar:
        st.subheader(t("video.settings"))
        stride = st.number_input(t("video.stride"), 1, 10, 1, key=state.STRIDE, help=t("video.stride_help"))
        method = st.selectbox(
            t("video.smoothing_label"),
            METHODS,
            index=METHODS.index(DEFAULT_SMOOTHING.method),
            key=state.SMOOTHING,
            help=" ".join(f"{k}: {smoothing_help(k)}" for k in METHODS),
            bind="query-params",
            persist_state="session",
        )
        st.caption(smoothing_help(method) + " " + t("video.gaps", n=DEFAULT_SMOOTHING.max_gap_frames))
    return int(stride), Smoothing(method=method)


def batch_within_limits(items: list[InputImage]) -> tuple[list[InputImage], list[InputImage]]:
    """The images a batch here analyses, in order, and those beyond its limits: at most
    MAX_BATCH_FILES files and MAX_BATCH_PIXELS pixels at full size (a header is read,
    nothing decoded). An unreadable file counts no pixels: it gets its own error."""
    kept: list[InputImage] = []
    pixels = 0
    for n, item in enumerate(items):
        size = peek_size(item.data)
        pixels += size[0] * size[1] if size else 0
        if n >= state.MAX_BATCH_FILES or (kept and pixels > state.MAX_BATCH_PIXELS):
            return kept, items[n:]
        kept.append(item)
    return kept, []


def batch_limits_ui(items: list[InputImage]) -> list[InputImage]:
    """The images to analyse; when a batch is over the limits, says which were left out and why."""
    kept, skipped = batch_within_limits(items)
    if skipped:
        names = ", ".join(md_escape(i.name) for i in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        st.warning(
            t(
                "inputs.over_limits",
                kept=len(kept),
                n=len(items),
                files=state.MAX_BATCH_FILES,
                mp=f"{state.MAX_BATCH_PIXELS / 1e6:.0f}",
                names=names,
            ),
            icon=":material/production_quantity_limits:",
        )
    return kept
