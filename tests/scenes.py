"""Canvases made of real photos for the crowd search: people pasted at known places and
heights on real backgrounds, with the keypoints they carry, so a found pose can be scored.

The people are the two real photos packages ship (scikit-image's astronaut, matplotlib's
Grace Hopper; both public domain). Both are upper-body portraits, so a pasted person is a
head-and-torso crop: "height" below is the height of that crop, and a standing person with
the same head size would be about 2.5 times taller.

Reference keypoints: the landmarker's own pose on the full-size source photo (plain mode,
one person, full model: mean OKS ~0.8 on such portraits), moved and scaled with the
crop; only keypoints the model places inside the crop count (COCO's "labelled").

Used by ``tests/test_crowd.py`` (``from tests.scenes import ...``) and by
``bench/bench_people.py``, which puts the repository root on ``sys.path`` as the other
benchmarks do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from PIL import Image
from skimage import data

from pose_core.evaluation import COCO_INDEX
from pose_core.types import PoseResult

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Portrait:
    """A real photo of one person and the part of it that is pasted."""

    name: str
    rgb: np.ndarray  # (H, W, 3) uint8
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1: head, shoulders and torso


@dataclass(frozen=True)
class PastedPerson:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the pasted crop, pixels
    keypoints: np.ndarray  # (17, 2) float64 COCO keypoints, canvas pixels
    labelled: np.ndarray  # (17,) bool: the keypoint is inside the crop (it counts)
    source: str  # which portrait

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        """COCO's area is the person's mask; a head-and-torso crop is about half person."""
        return 0.5 * (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


@dataclass(frozen=True)
class Scene:
    rgb: np.ndarray  # (H, W, 3) uint8
    people: tuple[PastedPerson, ...]
    background: str


@cache
def portraits() -> tuple[Portrait, ...]:
    hopper = Path(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    return (
        # The astronaut fills the frame from hair to waist; her helmet on the right is cut off.
        Portrait("astronaut", data.astronaut(), (40, 0, 400, 512)),
        Portrait("hopper", np.asarray(Image.open(hopper).convert("RGB")), (0, 40, 512, 600)),
    )


# Backgrounds: real photos that ship with scikit-image and show no person (the
# cameraman and the astronaut are left out). Grey ones are made RGB.
BACKGROUNDS: tuple[str, ...] = (
    "coffee",
    "rocket",
    "chelsea",
    "brick",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "coins",
    "moon",
    "page",
    "text",
    "clock",
    "colorwheel",
    "retina",
    "cell",
)


@cache
def background(name: str) -> np.ndarray:
    """A scikit-image photo as (H, W, 3) uint8."""
    image = np.asarray(getattr(data, name)())
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3].astype(np.uint8))


def background_canvas(name: str, size: tuple[int, int]) -> np.ndarray:
    """The background resized to cover ``size`` (width, height) and centre-cropped."""
    width, height = size
    image = background(name)
    factor = max(width / image.shape[1], height / image.shape[0])
    scaled = cv2.resize(
        image, (max(width, round(image.shape[1] * factor)), max(height, round(image.shape[0] * factor)))
    )
    y0, x0 = (scaled.shape[0] - height) // 2, (scaled.shape[1] - width) // 2
    return np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])


def paste(canvas: np.ndarray, portrait: Portrait, reference: PoseResult, x: int, y: int, height: int) -> PastedPerson:
    """Paste the portrait's crop scaled to ``height`` with its top-left at (x, y), in place.

    ``reference`` is the landmarker's pose on the whole portrait (image coordinates of it).
    """
    x0, y0, x1, y1 = portrait.crop
    factor = height / (y1 - y0)
    width = max(1, round((x1 - x0) * factor))
    crop = portrait.rgb[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    canvas[y : y + height, x : x + width] = cv2.resize(crop, (width, height), interpolation=interpolation)
    src = reference.landmarks_px[COCO_INDEX].astype(np.float64)  # (17, 2) in the portrait
    labelled = (src[:, 0] >= x0) & (src[:, 0] < x1) & (src[:, 1] >= y0) & (src[:, 1] < y1)
    labelled &= reference.presence[COCO_INDEX] >= 0.5
    keypoints = (src - [x0, y0]) * factor + [x, y]
    return PastedPerson((float(x), float(y), float(x + width), float(y + height)), keypoints, labelled, portrait.name)


def group_scene(references: Sequence[PoseResult]) -> Scene:
    """Three people, head and torso 180-240 px tall, at different heights in the picture,
    on scikit-image's coffee photo at 720p: plain mode misses some, crowd mode finds all."""
    canvas = background_canvas("coffee", (1280, 720))
    people = tuple(
        paste(canvas, portraits()[i % 2], references[i % 2], x, y, height)
        for i, (x, y, height) in enumerate([(80, 300, 240), (520, 60, 200), (940, 420, 180)])
    )
    return Scene(canvas, people, "coffee")


def make_scene(
    rng: np.random.Generator,
    references: Sequence[PoseResult],
    heights: Sequence[int],
    size: tuple[int, int] = (1920, 1080),
    background_name: str = "coffee",
    gap: int = 8,
) -> Scene:
    """A canvas with one pasted person per height at random places that do not overlap
    (``gap`` pixels apart), alternating the portraits. ``references[i]`` is the pose of
    ``portraits()[i]``. Raises RuntimeError when they do not fit."""
    canvas = background_canvas(background_name, size)
    people: list[PastedPerson] = []
    boxes: list[tuple[float, float, float, float]] = []
    for i, height in enumerate(heights):
        portrait = portraits()[i % len(portraits())]
        x0, y0, x1, y1 = portrait.crop
        width = round((x1 - x0) * height / (y1 - y0))
        for _ in range(500):
            x = int(rng.integers(0, size[0] - width + 1))
            y = int(rng.integers(0, size[1] - height + 1))
            box = (x - gap, y - gap, x + width + gap, y + height + gap)
            if all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1] for b in boxes):
                break
        else:
            raise RuntimeError(f"could not place {len(heights)} people of heights {list(heights)} on {size}")
        boxes.append(box)
        people.append(paste(canvas, portrait, references[i % len(portraits())], x, y, height))
    return Scene(canvas, tuple(people), background_name)


def write_coco(folder: Path, photos: Sequence[tuple[str, np.ndarray, Sequence[PastedPerson]]]) -> Path:
    """Each (file name, picture, people) saved as a JPEG in ``folder`` and the people as
    COCO-style keypoint annotations (``folder / "annotations.json"``, returned): what
    ``python -m bench.bench_coco`` reads, as it would read a hand-annotated set."""
    images, annotations = [], []
    for image_id, (name, rgb, people) in enumerate(photos, start=1):
        Image.fromarray(rgb).save(folder / name, quality=92)
        images.append({"id": image_id, "file_name": name, "width": rgb.shape[1], "height": rgb.shape[0]})
        for person in people:
            x0, y0, x1, y1 = person.box
            xyv = np.column_stack([person.keypoints, np.where(person.labelled, 2, 0)])
            xyv[~person.labelled, :2] = 0  # COCO writes unlabelled points as 0, 0, 0
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "keypoints": [round(float(v), 2) for v in xyv.ravel()],
                    "num_keypoints": int(person.labelled.sum()),
                    "area": person.area,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                }
            )
    path = folder / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [{"id": 1}]}))
    return path


def reference_poses(detect: Callable[[np.ndarray], Sequence[PoseResult]]) -> tuple[PoseResult, ...]:
    """The landmarker's pose on each whole portrait (one person each), via ``detect``."""
    out = []
    for portrait in portraits():
        found = detect(portrait.rgb)
        if len(found) != 1:
            raise RuntimeError(f"expected one person on the {portrait.name} photo, found {len(found)}")
        out.append(found[0])
    return tuple(out)


# --- Clips: pasted people walking over a real background ----------------------------------


@dataclass(frozen=True)
class Walker:
    """One pasted person moving in a straight line, turning back at the frame's sides."""

    portrait: int  # index into portraits()
    height: int  # crop height in pixels (head and torso; see the module's docstring)
    x: float  # top-left of the crop at ``first_frame``
    y: float
    step: float  # pixels right per frame (negative: left)
    first_frame: int = 0  # the person appears in this frame (steps out of a doorway) ...
    last_frame: int | None = None  # ... and is gone after this one (None: to the end)

    def place(self, t: int, width: int) -> tuple[int, int] | None:
        """Top-left (x, y) of the crop in frame ``t`` of a clip ``width`` wide, or None
        when the person is not in that frame. Bounces off the sides; a slight bob (1 px,
        every 4 frames) stands for the gait, so no two frames are pixel copies."""
        if t < self.first_frame or (self.last_frame is not None and t > self.last_frame):
            return None
        x0, y0, x1, y1 = portraits()[self.portrait].crop
        span = width - round((x1 - x0) * self.height / (y1 - y0))  # room for the crop's left edge
        travelled = self.x + self.step * (t - self.first_frame)
        x = abs(travelled) % (2 * span)  # a triangle wave between 0 and span
        x = 2 * span - x if x > span else x
        return round(x), round(self.y) + (1 if (t // 4) % 2 else 0)


@dataclass(frozen=True)
class Clip:
    frames: tuple[np.ndarray, ...]  # (H, W, 3) uint8 each
    people: tuple[tuple[PastedPerson | None, ...], ...]  # per frame, per walker; None: not in the frame
    walkers: tuple[Walker, ...]
    background: str

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].shape[1], self.frames[0].shape[0]


def make_clip(
    references: Sequence[PoseResult],
    walkers: Sequence[Walker],
    frames: int,
    size: tuple[int, int] = (480, 360),
    background_name: str = "gravel",
) -> Clip:
    """``frames`` frames of the walkers on a real background. People lower in the frame
    are nearer the camera and are pasted last, so they hide the ones behind them, as in
    a street seen from above. ``references[i]`` is the pose of ``portraits()[i]``."""
    backdrop = background_canvas(background_name, size)
    out_frames: list[np.ndarray] = []
    out_people: list[tuple[PastedPerson | None, ...]] = []
    for t in range(frames):
        canvas = backdrop.copy()
        row: list[PastedPerson | None] = [None] * len(walkers)
        order = sorted(range(len(walkers)), key=lambda i: walkers[i].y + walkers[i].height)
        for i in order:
            where = walkers[i].place(t, size[0])
            if where is not None:
                w = walkers[i]
                row[i] = paste(canvas, portraits()[w.portrait], references[w.portrait], *where, w.height)
        out_frames.append(canvas)
        out_people.append(tuple(row))
    return Clip(tuple(out_frames), tuple(out_people), tuple(walkers), background_name)


def surveillance_walkers(
    rng: np.random.Generator,
    count: int,
    heights: tuple[int, int],
    frames: int,
    size: tuple[int, int] = (480, 360),
) -> tuple[Walker, ...]:
    """``count`` people on evenly spaced rows (so each row's people can pass each other
    and the rows overlap a little), alternating directions, 2-5 px per frame (a walk seen
    from far away at 10 fps), crop heights drawn from ``heights`` (low, high). The
    second-to-last steps out of a doorway a third of the way in, the last one leaves
    three quarters of the way in, so people present change over the clip."""
    width, height = size
    rows = np.linspace(0.05 * height, height - heights[1] - 0.05 * height, count)
    walkers = []
    for i, y in enumerate(rows):
        first = frames // 3 if count > 2 and i == count - 2 else 0
        last = 3 * frames // 4 if count > 1 and i == count - 1 else None
        step = float(rng.uniform(2.0, 5.0)) * (1 if i % 2 == 0 else -1)
        crop_height = int(rng.integers(heights[0], heights[1] + 1))
        walkers.append(Walker(i % 2, crop_height, float(rng.uniform(0, width - 80)), float(y), step, first, last))
    return tuple(walkers)
