"""The 33 BlazePose landmarks: the one place that knows names, indices, bones, sides
and body regions. Drawing, tables, 3D plots and angles all read from here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Side(str, Enum):
    LEFT = "left"  # the person's left, which is on the image's right for a facing person
    RIGHT = "right"
    CENTER = "center"


class Region(str, Enum):
    FACE = "face"
    TORSO = "torso"
    ARM = "arm"
    HAND = "hand"
    LEG = "leg"
    FOOT = "foot"


@dataclass(frozen=True)
class Landmark:
    index: int
    name: str
    side: Side
    region: Region


_NAMES_AND_REGIONS: tuple[tuple[str, Region], ...] = (
    ("nose", Region.FACE),
    ("left_eye_inner", Region.FACE),
    ("left_eye", Region.FACE),
    ("left_eye_outer", Region.FACE),
    ("right_eye_inner", Region.FACE),
    ("right_eye", Region.FACE),
    ("right_eye_outer", Region.FACE),
    ("left_ear", Region.FACE),
    ("right_ear", Region.FACE),
    ("mouth_left", Region.FACE),
    ("mouth_right", Region.FACE),
    ("left_shoulder", Region.TORSO),
    ("right_shoulder", Region.TORSO),
    ("left_elbow", Region.ARM),
    ("right_elbow", Region.ARM),
    ("left_wrist", Region.ARM),
    ("right_wrist", Region.ARM),
    ("left_pinky", Region.HAND),
    ("right_pinky", Region.HAND),
    ("left_index", Region.HAND),
    ("right_index", Region.HAND),
    ("left_thumb", Region.HAND),
    ("right_thumb", Region.HAND),
    ("left_hip", Region.TORSO),
    ("right_hip", Region.TORSO),
    ("left_knee", Region.LEG),
    ("right_knee", Region.LEG),
    ("left_ankle", Region.LEG),
    ("right_ankle", Region.LEG),
    ("left_heel", Region.FOOT),
    ("right_heel", Region.FOOT),
    ("left_foot_index", Region.FOOT),
    ("right_foot_index", Region.FOOT),
)


def _side_of(name: str) -> Side:
    if name.startswith("left_") or name.endswith("_left"):
        return Side.LEFT
    if name.startswith("right_") or name.endswith("_right"):
        return Side.RIGHT
    return Side.CENTER


LANDMARKS: tuple[Landmark, ...] = tuple(
    Landmark(index=i, name=name, side=_side_of(name), region=region)
    for i, (name, region) in enumerate(_NAMES_AND_REGIONS)
)
NUM_LANDMARKS = len(LANDMARKS)  # 33
NAMES: tuple[str, ...] = tuple(lm.name for lm in LANDMARKS)
INDEX: dict[str, int] = {lm.name: lm.index for lm in LANDMARKS}


def index_of(name: str) -> int:
    try:
        return INDEX[name]
    except KeyError:
        raise KeyError(f"unknown landmark {name!r}; valid names: {', '.join(NAMES)}") from None


def _bones(*pairs: tuple[str, str]) -> tuple[tuple[int, int], ...]:
    return tuple((INDEX[a], INDEX[b]) for a, b in pairs)


# MediaPipe's POSE_CONNECTIONS (35 bones), 0-based, written with names.
BONES: tuple[tuple[int, int], ...] = _bones(
    ("nose", "left_eye_inner"),
    ("left_eye_inner", "left_eye"),
    ("left_eye", "left_eye_outer"),
    ("left_eye_outer", "left_ear"),
    ("nose", "right_eye_inner"),
    ("right_eye_inner", "right_eye"),
    ("right_eye", "right_eye_outer"),
    ("right_eye_outer", "right_ear"),
    ("mouth_left", "mouth_right"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("left_wrist", "left_pinky"),
    ("left_wrist", "left_index"),
    ("left_wrist", "left_thumb"),
    ("left_pinky", "left_index"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("right_wrist", "right_pinky"),
    ("right_wrist", "right_index"),
    ("right_wrist", "right_thumb"),
    ("right_pinky", "right_index"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"),
    ("right_ankle", "right_heel"),
    ("left_heel", "left_foot_index"),
    ("right_heel", "right_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_ankle", "right_foot_index"),
)


# The limbs' rigid segments among BONES (upper arms, forearms, thighs, shins): their
# lengths keep human proportions whatever the pose.
LIMB_BONES: tuple[tuple[int, int], ...] = _bones(
    ("left_shoulder", "left_elbow"),
    ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
)


def bone_side(bone: tuple[int, int]) -> Side:
    """A bone's side: shared when both ends agree, else CENTER (e.g. across the hips)."""
    a, b = (LANDMARKS[i].side for i in bone)
    return a if a == b else Side.CENTER


# COCO's 17 keypoints in COCO order, with COCO's per-keypoint OKS sigmas (the spread of
# human annotators): the points that COCO-style annotations and their OKS metric use (the
# crowd search's pose similarity and the people benchmark score with them).
COCO_OKS_SIGMAS: dict[str, float] = {
    "nose": 0.026,
    "left_eye": 0.025,
    "right_eye": 0.025,
    "left_ear": 0.035,
    "right_ear": 0.035,
    "left_shoulder": 0.079,
    "right_shoulder": 0.079,
    "left_elbow": 0.072,
    "right_elbow": 0.072,
    "left_wrist": 0.062,
    "right_wrist": 0.062,
    "left_hip": 0.107,
    "right_hip": 0.107,
    "left_knee": 0.087,
    "right_knee": 0.087,
    "left_ankle": 0.089,
    "right_ankle": 0.089,
}
COCO_KEYPOINTS: tuple[tuple[str, int], ...] = tuple((name, INDEX[name]) for name in COCO_OKS_SIGMAS)
