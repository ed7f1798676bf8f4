"""Postures: what a person is doing in one photo or frame, with the reason.

Two ways to name a posture:

- **Rules** (:data:`POSTURE_RULES`): a table of conditions over a few features measured
  from the angles and the world landmarks (:data:`FEATURES`), like the angle table in
  ``angles.py``. The first rule whose conditions all hold names the posture, and its
  reason lists the measurements that made it so. A feature whose landmarks the model
  could not see (visibility under ``min_confidence``) is unknown, and a condition on an
  unknown feature does not hold: PoseLab says "unknown" rather than guess.
- **A classifier the user teaches** (:class:`PostureClassifier`): k nearest neighbours
  over normalised landmark features, the approach of MediaPipe's pose classification
  guide: landmarks centred on the hips and scaled by the torso, then the differences
  between pairs of joints. Saved as a small JSON file.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from pose_core.angles import pose_angles
from pose_core.errors import PoseLabError
from pose_core.schema import INDEX
from pose_core.types import PoseResult

MIN_CONFIDENCE = 0.5


class ClassifierError(PoseLabError, ValueError):
    """A posture classifier file or its examples cannot be used; the message says why."""


# ---------------------------------------------------------------- features


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    unit: str  # "°" or "torso" (lengths in torso lengths: shoulder centre to hip centre)
    definition: str


FEATURES: tuple[Feature, ...] = (
    Feature("trunk", "trunk from vertical", "°", "trunk inclination in the image: 0° upright, 90° horizontal"),
    Feature("knee_min", "more bent knee", "°", "the smaller knee angle (3D); 180° = straight leg"),
    Feature("knee_max", "straighter knee", "°", "the larger knee angle (3D)"),
    Feature("hip_min", "more bent hip", "°", "the smaller hip angle (3D); 180° = standing straight"),
    Feature("hip_max", "straighter hip", "°", "the larger hip angle (3D)"),
    Feature("shoulder_min", "lower arm", "°", "the smaller shoulder angle (3D); 0° arm down, 180° overhead"),
    Feature("shoulder_max", "higher arm", "°", "the larger shoulder angle (3D)"),
    Feature("elbow_min", "more bent elbow", "°", "the smaller elbow angle (3D)"),
    Feature("wrist_span", "wrist to wrist", "torso", "distance between the wrists (world landmarks)"),
    Feature("feet_apart", "ankle to ankle", "torso", "distance between the ankles (world landmarks)"),
    Feature(
        "knee_above_ankle_max",
        "higher knee above its ankle",
        "torso",
        "height of each knee above its own ankle, the larger (world landmarks); ~0 = knee on the floor",
    ),
    Feature(
        "hips_above_ankles",
        "hips above ankles",
        "torso",
        "height of the hip centre above the ankles' (world landmarks); ~2 standing, ~1 seated",
    ),
)
FEATURE_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}

_WORLD_POINTS = ("left_wrist", "right_wrist", "left_knee", "right_knee", "left_ankle", "right_ankle")


def posture_features(pose: PoseResult, min_confidence: float = MIN_CONFIDENCE) -> dict[str, float]:
    """Every feature in :data:`FEATURES` for one pose; NaN where its landmarks were not
    seen with at least ``min_confidence``. Heights use the world landmarks' y (down), so
    they assume a roughly level camera, as "trunk" does."""
    readings = {r.name: r for r in pose_angles(pose)}

    def angle(name: str, dimension: str = "3d") -> float:
        r = readings[name]
        if not r.confidence >= min_confidence:
            return math.nan
        return r.degrees_3d if dimension == "3d" else r.degrees_2d

    def pair(name: str) -> tuple[float, float]:
        return angle(f"left_{name}"), angle(f"right_{name}")

    world = pose.world_landmarks.astype(np.float64)
    seen = np.nan_to_num(pose.visibility, nan=0.0) >= min_confidence
    torso_points = [INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    shoulders = world[torso_points[:2]].mean(axis=0)
    hips = world[torso_points[2:]].mean(axis=0)
    torso = float(np.linalg.norm(shoulders - hips)) if seen[torso_points].all() else math.nan
    w = {n: world[INDEX[n]] if seen[INDEX[n]] and torso > 1e-6 else np.full(3, np.nan) for n in _WORLD_POINTS}

    def both(values: tuple[float, float], how: str) -> float:
        a, b = values
        return math.nan if math.isnan(a) or math.isnan(b) else (min(a, b) if how == "min" else max(a, b))

    knee_rise = [(w[f"{s}_ankle"][1] - w[f"{s}_knee"][1]) / torso for s in ("left", "right")]
    ankles_y = (w["left_ankle"][1] + w["right_ankle"][1]) / 2
    return {
        "trunk": angle("trunk_inclination", "2d"),
        "knee_min": both(pair("knee"), "min"),
        "knee_max": both(pair("knee"), "max"),
        "hip_min": both(pair("hip"), "min"),
        "hip_max": both(pair("hip"), "max"),
        "shoulder_min": both(pair("shoulder"), "min"),
        "shoulder_max": both(pair("shoulder"), "max"),
        "elbow_min": both(pair("elbow"), "min"),
        "wrist_span": float(np.linalg.norm(w["left_wrist"] - w["right_wrist"]) / torso),
        "feet_apart": float(np.linalg.norm(w["left_ankle"] - w["right_ankle"]) / torso),
        "knee_above_ankle_max": both((float(knee_rise[0]), float(knee_rise[1])), "max"),
        "hips_above_ankles": float((ankles_y - hips[1]) / torso) if not math.isnan(torso) else math.nan,
    }


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class Condition:
    feature: str
    low: float = -math.inf
    high: float = math.inf

    def holds(self, value: float) -> bool:
        return not math.isnan(value) and self.low <= value <= self.high

    def describe(self, value: float) -> str:
        feature = FEATURE_BY_NAME[self.feature]
        unit = "°" if feature.unit == "°" else " torso"
        bound = (
            f"{self.low:g}-{self.high:g}{unit}"
            if math.isfinite(self.low) and math.isfinite(self.high)
            else (f"≥ {self.low:g}{unit}" if math.isfinite(self.low) else f"≤ {self.high:g}{unit}")
        )
        shown = "not seen" if math.isnan(value) else (f"{value:.0f}°" if unit == "°" else f"{value:.2f}{unit}")
        return f"{feature.label} {shown} ({bound})"


@dataclass(frozen=True)
class PostureRule:
    label: str
    conditions: tuple[Condition, ...]


def _rule(label: str, **bounds: tuple[float, float]) -> PostureRule:
    return PostureRule(label, tuple(Condition(name, low, high) for name, (low, high) in bounds.items()))


INF = math.inf
# The first rule that holds names the posture: the order settles overlaps (a T-pose is
# also standing; a lunge may have a knee on the floor). A label may have several rules.
POSTURE_RULES: tuple[PostureRule, ...] = (
    _rule("lying", trunk=(60, 180)),
    _rule("T-pose", shoulder_min=(65, 115), shoulder_max=(65, 115), elbow_min=(145, 180), wrist_span=(2.0, INF)),
    _rule("arms raised", shoulder_min=(130, 180)),
    _rule("kneeling", trunk=(0, 45), knee_above_ankle_max=(-INF, 0.35), knee_max=(-INF, 130)),
    _rule("lunge", trunk=(0, 45), feet_apart=(1.3, INF), knee_min=(60, 130)),
    # A squat either leans forward or sits lower than a chair.
    _rule("squatting", knee_max=(0, 115), hip_max=(0, 115), trunk=(20, 60)),
    _rule("squatting", knee_max=(0, 110), hips_above_ankles=(-INF, 0.75)),
    _rule("sitting", trunk=(0, 35), knee_max=(45, 135), hip_max=(45, 135)),
    _rule("standing", trunk=(0, 25), knee_min=(150, 180), hip_min=(145, 180)),
)
POSTURES: tuple[str, ...] = tuple(dict.fromkeys(r.label for r in POSTURE_RULES))
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Posture:
    label: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "reason": self.reason}


def classify_posture(pose: PoseResult, min_confidence: float = MIN_CONFIDENCE) -> Posture:
    """The first rule of :data:`POSTURE_RULES` that holds for ``pose``, with the
    measurements that made it hold; "unknown" (and what was not seen) otherwise."""
    values = posture_features(pose, min_confidence)
    for rule in POSTURE_RULES:
        if all(c.holds(values[c.feature]) for c in rule.conditions):
            return Posture(rule.label, "; ".join(c.describe(values[c.feature]) for c in rule.conditions))
    unseen = [FEATURE_BY_NAME[name].label for name, v in values.items() if math.isnan(v)]
    if len(unseen) == len(values):
        return Posture(UNKNOWN, "too little of the body was seen clearly")
    if any(name.startswith(("knee", "hip", "feet")) for name, v in values.items() if math.isnan(v)):
        return Posture(UNKNOWN, "no rule holds; the legs were not seen clearly")
    return Posture(UNKNOWN, "no rule holds: " + "; ".join(_closest_misses(values)))


def _closest_misses(values: dict[str, float]) -> list[str]:
    """For a pose no rule names: the standing rule's conditions, to show why not."""
    standing = next(r for r in POSTURE_RULES if r.label == "standing")
    return [c.describe(values[c.feature]) for c in standing.conditions if not c.holds(values[c.feature])]


# ---------------------------------------------------------------- k-NN classifier

# The guide's embedding: joint-to-joint differences after normalising the pose.
_PAIRS: tuple[tuple[str, str], ...] = (
    ("left_hip", "left_shoulder"),  # hip centre to shoulder centre is added separately
    ("right_hip", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
    ("left_shoulder", "left_wrist"),
    ("right_shoulder", "right_wrist"),
    ("left_hip", "left_ankle"),
    ("right_hip", "right_ankle"),
    ("left_hip", "left_wrist"),
    ("right_hip", "right_wrist"),
    ("left_shoulder", "left_ankle"),
    ("right_shoulder", "right_ankle"),
    ("left_elbow", "right_elbow"),
    ("left_knee", "right_knee"),
    ("left_wrist", "right_wrist"),
    ("left_ankle", "right_ankle"),
)
EMBEDDING = "poselab-pairs-v1"
TORSO_MULTIPLIER = 2.5  # the guide's: the pose's size is at least 2.5 torso lengths


def pose_embedding(pose: PoseResult) -> np.ndarray:
    """(69,) float64: the pose's world landmarks centred on the hips, scaled by its size
    (the larger of 2.5 torso lengths and the furthest landmark from the hips), then the
    3D differences of :data:`_PAIRS` and of hip centre to shoulder centre. Unseen points
    (NaN) give zeros."""
    world = pose.world_landmarks.astype(np.float64)
    hips = world[[INDEX["left_hip"], INDEX["right_hip"]]].mean(axis=0)
    shoulders = world[[INDEX["left_shoulder"], INDEX["right_shoulder"]]].mean(axis=0)
    centred = world - hips
    torso = float(np.linalg.norm(shoulders - hips))
    size = max(torso * TORSO_MULTIPLIER, float(np.nanmax(np.linalg.norm(centred, axis=1))))
    if not math.isfinite(size) or size <= 1e-9:
        raise ClassifierError("the pose has no torso to measure it by")
    points = centred / size
    diffs = [points[INDEX[b]] - points[INDEX[a]] for a, b in _PAIRS]
    diffs.insert(0, (shoulders - hips) / size)
    return np.nan_to_num(np.concatenate(diffs), nan=0.0)


@dataclass(frozen=True, eq=False)
class PostureClassifier:
    """k nearest neighbours over :func:`pose_embedding`, distance = mean absolute
    difference. ``labels`` (N,) and ``embeddings`` (N, 69) are the taught examples."""

    labels: tuple[str, ...]
    embeddings: np.ndarray
    k: int = 5
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.labels or len(self.labels) != len(self.embeddings):
            raise ClassifierError("a classifier needs at least one example, each with a label")

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.labels)))

    def classify(self, pose: PoseResult) -> Posture:
        distances = np.abs(self.embeddings - pose_embedding(pose)[None]).mean(axis=1)
        k = min(self.k, len(self.labels))
        nearest = np.argsort(distances, kind="stable")[:k]
        votes = Counter(self.labels[i] for i in nearest)
        best = max(votes.values())
        # A tie goes to the class whose examples are nearer.
        winner = min(
            (label for label, n in votes.items() if n == best),
            key=lambda lab: float(np.mean([distances[i] for i in nearest if self.labels[i] == lab])),
        )
        mean = float(np.mean([distances[i] for i in nearest if self.labels[i] == winner]))
        return Posture(winner, f"taught classifier: {best} of the {k} nearest examples (mean distance {mean:.3f})")

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": "poselab-posture-classifier",
                "version": 1,
                "embedding": EMBEDDING,
                "k": self.k,
                "classes": list(self.classes),
                "examples": [
                    {"label": label, "source": source, "embedding": [round(float(v), 4) for v in emb]}
                    for label, source, emb in zip(
                        self.labels, self.sources or ("",) * len(self.labels), self.embeddings, strict=True
                    )
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PostureClassifier:
        try:
            doc = json.loads(text)
            if doc.get("format") != "poselab-posture-classifier" or doc.get("embedding") != EMBEDDING:
                raise ClassifierError("not a PoseLab posture classifier (format or embedding differs)")
            examples = doc["examples"]
            if not examples:
                raise ClassifierError("the file holds no examples: a classifier needs at least one")
            embeddings = np.array([e["embedding"] for e in examples], np.float64).reshape(len(examples), -1)
            labels = tuple(str(e["label"]) for e in examples)
            sources = tuple(str(e.get("source", "")) for e in examples)
            k = int(doc.get("k", 5))
        except ClassifierError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ClassifierError(f"not a readable posture classifier: {exc}") from exc
        if embeddings.shape[1:] != (3 * (len(_PAIRS) + 1),):
            raise ClassifierError(f"examples have {embeddings.shape[1:]} numbers each, expected 69")
        if k < 1:
            raise ClassifierError("k must be at least 1")
        return cls(labels, embeddings, k, sources)


def teach_classifier(examples: Iterable[tuple[str, PoseResult, str]], k: int = 5) -> PostureClassifier:
    """A classifier from (label, pose, source name) examples."""
    labels, embeddings, sources = [], [], []
    for label, pose, source in examples:
        labels.append(label)
        embeddings.append(pose_embedding(pose))
        sources.append(source)
    if len(set(labels)) < 2:
        raise ClassifierError("teach at least two classes (one folder or one set of photos per class)")
    return PostureClassifier(tuple(labels), np.array(embeddings), k, tuple(sources))


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MAX_ZIP_BYTES = 200 * 2**20  # what a ZIP of examples may unpack to


def examples_from_zip(data: bytes) -> list[tuple[str, str, bytes]]:
    """(class, file name, bytes) for each image in a ZIP with one folder per class
    (``squat/a.jpg``, ``stand/b.png``; a folder above them all is allowed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ClassifierError("not a ZIP file") from exc
    entries = [
        i
        for i in archive.infolist()
        if not i.is_dir()
        and PurePosixPath(i.filename).suffix.lower() in IMAGE_SUFFIXES
        and not any(p.startswith((".", "__MACOSX")) for p in PurePosixPath(i.filename).parts)
    ]
    if sum(i.file_size for i in entries) > MAX_ZIP_BYTES:
        raise ClassifierError(f"the ZIP unpacks to more than {MAX_ZIP_BYTES // 2**20} MB of images")
    parts = [PurePosixPath(i.filename).parts for i in entries]
    depth = min((len(p) for p in parts), default=0)
    if depth < 2:
        raise ClassifierError("put each class's photos in a folder named after the class")
    # A common top folder (what zipping one folder gives) is not a class.
    level = depth - 2
    out = [(p[level], p[-1], archive.read(i)) for p, i in zip(parts, entries, strict=True)]
    return out


def posture_for(pose: PoseResult, classifier: PostureClassifier | None = None) -> Posture:
    """The taught classifier's posture if there is one, else the rules'."""
    return classifier.classify(pose) if classifier is not None else classify_posture(pose)
