"""Score found poses against people annotated by hand, the way COCO scores keypoints.

For analysts who want to know how far to trust the model on their own photos, and for
the crowd search's targets (recall at OKS 0.5 over every annotated person, mean OKS with
a missed person counting 0): load COCO-style keypoint annotations
(:func:`load_coco_keypoints`), run any detector on the photos, and add each photo's
poses to a :class:`Tally` (``python -m bench.bench_coco`` does this for plain and crowd
mode in one run).

OKS (object keypoint similarity) is COCO's: per labelled keypoint
``exp(-d² / (2 · area · (2σ)²))`` with σ the keypoint's annotator spread
(``pose_core.schema.COCO_OKS_SIGMAS``) and ``area`` the person's segment area, averaged
over the labelled keypoints. A pose and a person are matched one to one, best OKS first,
as COCO's evaluation does (there each pose in turn takes its best free person; with the
pairs sorted by OKS the result is the same whenever poses do not compete).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pose_core.schema import COCO_KEYPOINTS, COCO_OKS_SIGMAS
from pose_core.types import PoseResult

COCO_INDEX = np.array([index for _, index in COCO_KEYPOINTS])  # (17,) our indices of COCO's keypoints, COCO order
COCO_SIGMAS = np.array(list(COCO_OKS_SIGMAS.values()), np.float64)  # (17,) in COCO order
RECALL_OKS = 0.5  # a person counts as found when a pose matches them at this OKS or more
_SEGMENT_SHARE_OF_BOX = 0.5


class KeypointTruth(Protocol):
    """One person's true keypoints: what :func:`oks` compares a pose with."""

    @property
    def keypoints(self) -> np.ndarray: ...  # (17, 2) float64 pixels, COCO order

    @property
    def labelled(self) -> np.ndarray: ...  # (17,) bool: the keypoint was annotated

    @property
    def area(self) -> float: ...  # the person's segment area in px² (COCO's OKS scale)


@dataclass(frozen=True)
class AnnotatedPerson:
    """A person annotated in a photo."""

    keypoints: np.ndarray  # (17, 2) float64 pixels, COCO order (unlabelled ones are 0)
    labelled: np.ndarray  # (17,) bool: COCO visibility flag 1 (hidden) or 2 (seen)
    area: float  # segment area, px²
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1 pixels

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]


@dataclass(frozen=True)
class AnnotatedImage:
    """A photo's annotations: the people with keypoints, and whether anyone else is there."""

    image_id: int
    file_name: str
    size: tuple[int, int]  # width, height as the annotations give them
    people: tuple[AnnotatedPerson, ...]  # with at least one labelled keypoint, not crowds
    others: int  # crowd regions and people annotated without keypoints: not scored

    @property
    def nobody(self) -> bool:
        """No person annotated at all: every pose found here is a false person."""
        return not self.people and not self.others


def oks(pose: PoseResult, person: KeypointTruth) -> float:
    """COCO's object keypoint similarity of a pose against an annotated person, in [0, 1]
    (0 when the person has no labelled keypoint)."""
    if not person.labelled.any():
        return 0.0
    d2 = np.sum((pose.landmarks_px[COCO_INDEX].astype(np.float64) - person.keypoints) ** 2, axis=1)
    per_point = np.exp(-d2 / (2.0 * max(person.area, 1.0) * (2.0 * COCO_SIGMAS) ** 2))
    return float(per_point[person.labelled].mean())


def match(poses: Sequence[PoseResult], people: Sequence[KeypointTruth]) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching, best OKS first: (pose index, person index, OKS) pairs
    with OKS > 0."""
    pairs = sorted(
        ((oks(p, q), i, j) for i, p in enumerate(poses) for j, q in enumerate(people)),
        reverse=True,
    )
    used_poses: set[int] = set()
    used_people: set[int] = set()
    out: list[tuple[int, int, float]] = []
    for score, i, j in pairs:
        if score > 0 and i not in used_poses and j not in used_people:
            used_poses.add(i)
            used_people.add(j)
            out.append((i, j, score))
    return out


@dataclass
class Tally:
    """Running counts for recall, precision and mean OKS over many photos."""

    people: int = 0  # annotated people
    matched: int = 0  # ...matched by a pose at OKS >= RECALL_OKS
    oks_sum: float = 0.0  # OKS of every annotated person (a missed one adds 0)
    found: int = 0  # poses reported
    true_found: int = 0  # ...that matched someone at OKS >= RECALL_OKS

    def add(self, poses: Sequence[PoseResult], people: Sequence[KeypointTruth]) -> list[tuple[int, int, float]]:
        """Count one photo's poses against its people; returns the matched pairs."""
        pairs = match(poses, people)
        scores = dict.fromkeys(range(len(people)), 0.0) | {j: score for _, j, score in pairs}
        for score in scores.values():
            self.count_person(score)
        self.found += len(poses)
        self.true_found += sum(1 for _, _, score in pairs if score >= RECALL_OKS)
        return pairs

    def count_person(self, score: float) -> None:
        """One annotated person, whose matched pose scored ``score`` (0: missed)."""
        self.people += 1
        self.oks_sum += score
        self.matched += score >= RECALL_OKS

    def __iadd__(self, other: Tally) -> Tally:
        self.people += other.people
        self.matched += other.matched
        self.oks_sum += other.oks_sum
        self.found += other.found
        self.true_found += other.true_found
        return self

    @property
    def recall(self) -> float:
        return self.matched / self.people if self.people else float("nan")

    @property
    def precision(self) -> float:
        return self.true_found / self.found if self.found else float("nan")

    @property
    def mean_oks(self) -> float:
        return self.oks_sum / self.people if self.people else float("nan")


class AnnotationError(ValueError):
    """The annotation file is not COCO-style keypoints."""


def load_coco_keypoints(source: str | Path | Mapping[str, Any]) -> tuple[AnnotatedImage, ...]:
    """The photos of a COCO keypoints file (``person_keypoints_*.json``, or any file in its
    format: ``images``, ``annotations`` with 51 ``keypoints`` numbers x, y, v per person in
    COCO's keypoint order) in the order the file lists them. Crowd regions (``iscrowd``)
    and people without a labelled keypoint are counted in ``others``, not scored (COCO
    ignores them too). Raises :class:`AnnotationError` when the file cannot be read as such."""
    if isinstance(source, Mapping):
        doc = source
    else:
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AnnotationError(f"cannot read {source} as JSON: {exc}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("images"), list):
        raise AnnotationError("not COCO-style annotations: no 'images' list")
    people: dict[int, list[AnnotatedPerson]] = {}
    others: dict[int, int] = {}
    for n, ann in enumerate(doc.get("annotations") or []):
        image_id, person = _person(n, ann)
        if image_id is None:
            continue  # not a person
        if person is None:
            others[image_id] = others.get(image_id, 0) + 1
        else:
            people.setdefault(image_id, []).append(person)
    images = []
    for entry in doc["images"]:
        try:
            image_id = int(entry["id"])
            size = (int(entry.get("width") or 0), int(entry.get("height") or 0))
            file_name = str(entry["file_name"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AnnotationError(f"an image entry lacks its id or file_name: {exc}") from None
        images.append(
            AnnotatedImage(image_id, file_name, size, tuple(people.get(image_id, ())), others.get(image_id, 0))
        )
    return tuple(images)


def _person(n: int, ann: Any) -> tuple[int | None, AnnotatedPerson | None]:
    """Annotation ``n``'s image id (None: not a person) and the person to score (None: a
    crowd region or a person with no labelled keypoint)."""
    try:
        if ann.get("category_id", 1) != 1:
            return None, None  # COCO's person category is 1
        image_id = int(ann["image_id"])
        flat = np.asarray(ann.get("keypoints") or [0.0] * 51, np.float64)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise AnnotationError(f"annotation {n} is not a COCO keypoints annotation: {exc!r}") from None
    if flat.shape != (51,):
        raise AnnotationError(f"annotation {n}: expected 51 keypoint numbers (x, y, v for 17), got {flat.size}")
    xyv = flat.reshape(17, 3)
    labelled = xyv[:, 2] > 0
    if ann.get("iscrowd") or not labelled.any():
        return image_id, None
    bbox = _bbox(ann.get("bbox"), xyv[labelled, :2])
    # COCO's area is the person's segment; without one, the share of the box a person's
    # segment covers (about half, as in pose_core.crowd's torso-relative similarity).
    area = float(ann.get("area") or _SEGMENT_SHARE_OF_BOX * (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]))
    return image_id, AnnotatedPerson(xyv[:, :2].copy(), labelled, area, bbox)


def _bbox(coco_box: Sequence[float] | None, points: np.ndarray) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 from COCO's [x, y, width, height], else around the labelled points."""
    if coco_box is not None and len(coco_box) == 4:
        x, y, w, h = (float(v) for v in coco_box)
        return x, y, x + w, y + h
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)
