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
    """
    with st.sidebar:
        st.subheader("Model")
        model = st.selectbox(
            "Model variant",
            list(VARIANTS),
            index=list(VARIANTS).index(default_model),
            format_func=lambda v: f"{v}: {VARIANTS[v].description}",
            # A page with another default gets its own key: one key with two defaults
            # would carry one page's choice into the other as if it were the default.
            key=state.MODEL if default_model == DEFAULT_SETTINGS.model else f"{state.MODEL}-{default_model}",
        )
        max_poses = st.number_input(
            "Max people",
            min_value=1,
            max_value=MAX_POSES_LIMIT,
            value=DEFAULT_SETTINGS.max_poses,
            key=state.MAX_POSES,
            help="The model is trained on one person per image. It finds few people in crowds, "
            "and misses or merges people who overlap or stand close together.",
        )
        many = int(max_poses) > 1
        crowd = crowd_search and st.toggle(
            "Find everyone (slower)",
            value=many,
            key=f"{state.CROWD}-{'on' if many else 'off'}",
            help="Searches the picture at several scales, so people in groups, crowds and far from the camera "
            "are found too; several times slower. Still missed: people smaller than about a quarter of the "
            "picture's height (head to feet), and people mostly hidden behind others.",
        )
        with st.expander("Confidence thresholds"):
            detection = st.slider(
                "Person detection",
                0.0,
                1.0,
                DEFAULT_SETTINGS.min_detection_confidence,
                0.05,
                help="Lower it if a person is missed; raise it if shapes are mistaken for people.",
            )
            presence = st.slider(
                "Pose presence",
                0.0,
                1.0,
                DEFAULT_SETTINGS.min_presence_confidence,
                0.05,
                help="How sure the model must be that a pose is there at all.",
            )
            tracking = st.slider(
                "Tracking",
                0.0,
                1.0,
                DEFAULT_SETTINGS.min_tracking_confidence,
                0.05,
                help="Used between video frames; kept here so settings match the command line.",
            )
        masks = segmentation and st.toggle(
            "Segmentation mask",
            key=state.SEGMENTATION,
            help="Tints the person. The model computes it, so switching it "
            "on analyses the image once more; switching back is instant.",
        )

        st.subheader("Display")
        st.caption("These never re-run the model.")
        threshold = st.slider(
            "Visibility threshold",
            0.0,
            1.0,
            DEFAULT_STYLE.visibility_threshold,
            0.05,
            key=state.VISIBILITY_THRESHOLD,
            help="Joints below it are drawn faded, and angles that rely on them are greyed.",
        )
        left, right = st.columns(2)
        joint_color = left.color_picker("Joints", _rgb_to_hex(DEFAULT_STYLE.joint_color), key=state.JOINT_COLOR)
        bone_color = right.color_picker("Bones", _rgb_to_hex(DEFAULT_STYLE.bone_color), key=state.BONE_COLOR)
        line = st.select_slider("Line width", options=["auto", *range(1, 13)], value="auto", key=state.LINE_WIDTH)
        arcs = st.toggle("Angle arcs on the overlay", key=state.ANGLE_ARCS)

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
    """The images to analyse, from whichever source is chosen; analysis starts on arrival."""
    source = st.radio("Image source", SOURCES, horizontal=True, key=state.SOURCE, label_visibility="collapsed")
    if source == "Sample":
        names = st.pills(
            "Sample photos",
            list(SAMPLES),
            selection_mode="multi",
            default=["Astronaut"],
            key=state.SAMPLE,
            help="Public-domain portraits (NASA, US Navy).",
        )
        return [_sample(name) for name in names or []]
    if source == "Camera":
        shot = st.camera_input(
            "Take a snapshot",
            key=state.CAMERA,
            help="Step back so your whole body, or at least your upper body, is in the frame.",
        )
        return [_uploaded("camera_snapshot.jpg", shot)] if shot else []
    files = st.file_uploader(
        "Drop photos here",
        type=[ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS],
        accept_multiple_files=True,
        key=state.UPLOADER,
        help="JPEG, PNG, WebP, BMP or TIFF. Images stay in this server's memory; nothing is stored or sent.",
    )
    return [_uploaded(f.name, f) for f in files or []]


def _uploaded(name: str, upload: UploadedFile) -> InputImage:
    data = upload.getvalue()
    return InputImage(name, data, state.upload_digest(upload.file_id, data))


@st.cache_resource
def _sample(name: str) -> InputImage:
    data = SAMPLES[name].read_bytes()
    return InputImage(f"{name.lower().replace(' ', '_')}.jpg", data, hashlib.sha256(data).hexdigest())


SMOOTHING_HELP = {
    "none": "Raw landmarks, frame by frame.",
    "one-euro": "Causal One-Euro filter: calms jitter when still, follows fast moves. Fast.",
    "butterworth": f"Zero-phase Butterworth low-pass ({DEFAULT_SMOOTHING.cutoff_hz:g} Hz): smoothest, no lag; "
    "needs a second pass over the video.",
}


def video_settings_ui() -> tuple[int, Smoothing]:
    """Sidebar settings that only videos have: frame stride and smoothing."""
    with st.sidebar:
        st.subheader("Video")
        stride = st.number_input(
            "Analyse every n-th frame",
            1,
            10,
            1,
            key=state.STRIDE,
            help="2 halves the work; the annotated video then has half the frame rate.",
        )
        method = st.selectbox(
            "Smoothing",
            METHODS,
            index=METHODS.index(DEFAULT_SMOOTHING.method),
            key=state.SMOOTHING,
            help=" ".join(f"{k}: {v}" for k, v in SMOOTHING_HELP.items()),
        )
        st.caption(
            SMOOTHING_HELP[method]
            + f" Short dropouts (up to {DEFAULT_SMOOTHING.max_gap_frames} frames) are filled in first."
        )
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
            f"Analysing the first {len(kept)} of {len(items)} images: a batch here may have up to "
            f"{state.MAX_BATCH_FILES} images and {state.MAX_BATCH_PIXELS / 1e6:.0f} megapixels in all. "
            f"Left out: {names}. Drop them as a second batch, or use the command line, which has no such limits.",
            icon=":material/production_quantity_limits:",
        )
    return kept
