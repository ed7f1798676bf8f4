"""Find everyone: a multi-scale search over the Pose Landmarker for groups, crowds and
people far from the camera.

Why it is needed: MediaPipe's pose detector looks at the whole image squeezed into a
224 x 224 input, so a person whose head and torso span less than about a quarter of the
image's long side is not detected at all (measured on pasted real photos: 0/8 found at
1/8 of the side, 5/8 at 1/4, 7/8 at 5/16). Looking at a tile of the image is a zoom for the detector.

What :class:`CrowdSearch` does, in order:

1. the whole image, with the caller's settings: exactly what plain mode returns, and
   those poses are kept unfiltered (so a single person is never worse than plain mode);
2. overlapping tiles at two scales whose size follows the image's short side (so the
   number of landmarker calls, hence the time, is the same for any resolution of one
   aspect ratio); small tiles are upscaled to a working size before the landmarker sees
   them; the tiles are cut from the image with the people of step 1 painted out, since
   the detector reports the most salient person it sees and often nobody else, and a
   tile almost all under paint is skipped;
3. every tile pose mapped back to image coordinates (a new :class:`PoseResult` whose
   ``image_size`` is the full image; world landmarks are unchanged: they are metric
   and independent of the crop), then rejected if it is too weakly supported (torso
   visibility x presence) or anatomically implausible; a pose cut by an inner tile edge
   is not kept as it is but, when it matches nobody found, looked for again on a larger
   crop around it (a person too wide for the tiles' overlap is cut in every tile);
4. duplicates merged with an OKS-like pose similarity relative to the torso size (not
   box IoU: neighbours' boxes overlap and a cut pose has a different box); whole-image
   poses win, then the better-scored tile pose;
5. each person found only in a tile re-run on a square crop centred on them (as
   BlazePose itself tracks a person), the people of step 1 painted out there too:
   dropped when not found again there as the same person (this is what removes the
   ghosts), else kept;
6. people ordered left to right (``pose_core.types.left_to_right``: torso centre x, as
   plain mode orders them), at most ``settings.max_poses``.

No MediaPipe here: the landmarker is reached through ``estimator_for`` so the app can pass
its cached estimators and the command line its own. With ``lanes`` > 1 the tiles are
searched on that many landmarkers at once, one thread each (a landmarker runs one call at
a time on one core; two on two cores: 1.6x for tiles with nobody, 1.9x with someone):
the same people, sooner, for one more landmarker's memory per lane.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal, Protocol, TypeVar

import cv2
import numpy as np

from pose_core.evaluation import COCO_INDEX, COCO_SIGMAS
from pose_core.schema import INDEX, LIMB_BONES
from pose_core.types import PoseResult, PoseSettings, left_to_right

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
Source = Literal["whole", "tile", "refined"]


class Detector(Protocol):
    """What the search needs of ``pose_core.inference.PoseEstimator``."""

    def detect(self, rgb: np.ndarray) -> tuple[PoseResult, ...]: ...


class EstimatorFor(Protocol):
    """Where a search gets its landmarkers: the one for ``settings`` on ``lane``, each lane
    a landmarker of its own (``pose_core.analysis.EstimatorPool``, the app's cache)."""

    def __call__(self, settings: PoseSettings, lane: int = 0) -> Detector: ...


_Item = TypeVar("_Item")
_Out = TypeVar("_Out")


def run_on_lanes(lanes: int, job: Callable[[_Item, int], _Out], items: Sequence[_Item]) -> list[_Out]:
    """``[job(item, lane) for item in items]`` in that order, up to ``lanes`` jobs at once,
    each given a lane (0 .. lanes - 1) that no other running job holds, so no two jobs
    queue on one landmarker. One lane: in this thread, one after the other."""
    if lanes <= 1 or len(items) <= 1:
        return [job(item, 0) for item in items]
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    for lane in range(lanes):
        free.put(lane)

    def on_a_free_lane(item: _Item) -> _Out:
        lane = free.get()
        try:
            return job(item, lane)
        finally:
            free.put(lane)

    with ThreadPoolExecutor(max_workers=min(lanes, len(items)), thread_name_prefix="pose-lane") as pool:
        return list(pool.map(on_a_free_lane, items))


# --- Keypoints the geometry below is built on -------------------------------------------

_L_SHOULDER, _R_SHOULDER = INDEX["left_shoulder"], INDEX["right_shoulder"]
_L_HIP, _R_HIP = INDEX["left_hip"], INDEX["right_hip"]
_TORSO = np.array([_L_SHOULDER, _R_SHOULDER, _L_HIP, _R_HIP])
# Support score points: nose and shoulders and hips. The nose is in because half-body
# photos (portraits, people behind a table) have hips outside the frame with presence
# ~0; with the four torso points alone such a person scores ~0.5 and sits on the
# threshold (the astronaut photo: 0.49), with the nose it scores ~0.6.
_CORE = np.array([INDEX["nose"], _L_SHOULDER, _R_SHOULDER, _L_HIP, _R_HIP])

# The similarity uses COCO's keypoints and OKS sigmas (pose_core.evaluation), so it
# tolerates on each point what human labellers disagree on.
# COCO scales distances by sqrt(segment area). A standing person's mask is about 1.45
# torso sizes on a side (box ~3.5 x 1.2 torso lengths, mask ~half the box), so a torso-
# relative similarity uses 1.45 x torso size where COCO uses sqrt(area).
_AREA_SCALE_PER_TORSO = 1.45

# Bones whose 3D length (world landmarks, metres) must stay in proportion to the torso.
_LIMBS = (*LIMB_BONES, (_L_SHOULDER, _R_SHOULDER))


@dataclass(frozen=True)
class CrowdSettings:
    """How hard to look. The defaults cost 18 landmarker calls on a 16:9 photo 900 px or
    more high (1 whole + 2 large + 15 small tiles; a smaller picture also gets finer tiles,
    see fine_fraction) plus one small crop per person found in one tile only or cut by
    every tile edge: 19.3 calls on the 1080p canvases of bench_people.py, 11.3x plain
    mode's time on one landmarker, 7.8x on two (``CrowdSearch``'s lanes; 2 cores; earlier
    runs 12.0x and 7.9x, 11.9x and 8.3x: plain mode takes 16-19 ms per photo, and the
    ratio moves with it). A call costs ~6 ms for the detector whatever the image size,
    plus ~10 ms each time the detector fires (the landmark model runs even when the pose
    is then rejected)."""

    # Tile sides as fractions of the image's short side, largest first. 1.0 gives square
    # tiles as tall as the image (2 across a 16:9 photo; none for a square photo, which
    # the whole-image pass already covers); 0.45 gives 5 x 3 tiles on 16:9, 4 x 3 on 4:3.
    # The detector needs a head-and-torso about 1/4 of what it looks at, so these reach
    # people whose head-and-torso is ~1/4 and ~1/9 of the short side: a person ~130 px
    # tall in a 640 x 480 photo, ~290 px in a 1080p one. Measured against the former
    # (1.0, 0.6) in one run: recall 0.65 against 0.51 on bench_people's canvases (people
    # with a 120-160 px head-and-torso: 0.92 against 0.58), and on 14 real photos (8 of
    # them surveillance frames, 4-6 people each) 0.73 against 0.52 of the people a far
    # slower search finds, for 1.5x the time (11x plain mode at 1080p against 7.7x, on one
    # landmarker). The time buys what the issue is about. (0.45,) alone found the same
    # people for 2 calls less, but on a photo under 267 px high its tiles fall under
    # min_tile_px and the 1.0 tiles are all that is left. (0.5,) with overlap 0.1: 12
    # tiles, 0.54 on the canvases.
    tile_fractions: tuple[float, ...] = (1.0, 0.45)
    # Pictures whose short side is under ``fine_below_px`` also get tiles of this fraction
    # (None: never). The detector needs real detail, not only relative size: with the
    # people scaled along with the picture (bench_people --size), the 0.45 tiles find
    # people of 1/9 of the short side at 1080p (recall 1.00: 120 px, a face ~27 px) but
    # at 640x480 (53 px, a face ~12 px) 0.17, and at 0.3 tiles 0.75, which enlarge such a
    # person half as much again. Measured in one run (recall / mean OKS, canvases): 640x480
    # 0.47 / 0.39 -> 0.59 / 0.51, 1280x720 0.64 / 0.51 -> 0.72 / 0.58, no false people on
    # the 32 no-person photos, for ~2.2x the calls (39 for a 640x480 photo, 50 at 720p). At
    # 1080p the 0.45 tiles are large enough (486 px) and the time is the limit, so
    # there the layout stays (1.0, 0.45). (1.0, 0.3) alone cost 1/3 fewer calls but found
    # fewer people (0.55 at 640x480).
    fine_fraction: float | None = 0.3
    fine_below_px: int = 900
    # Neighbouring tiles share at least this fraction of their side, so a person cut by one
    # tile's edge is whole in the next one as long as they are narrower than the overlap.
    # 0.2 rather than 0.25: two image-high tiles across a 16:9 photo instead of three (they
    # still share 240 px at 1080p); measured with the former (1.0, 0.6) layout: 12.1 calls
    # instead of 13.0, the same people found on 3 real photos and the canvases (one of 12
    # at the largest size lost in one run of four).
    overlap: float = 0.2
    # Tiles smaller than this are not worth a call: a person found in them would be under
    # ~40 px, below what the detector finds at all (measured at 640x480: people of 27 and
    # 36 px head and torso, 1 in 12 found even in 144 px tiles; 53 px, 9 in 12). 120 lets
    # a 640x427 photo (COCO's usual size) have its 0.3 tiles (128 px).
    min_tile_px: int = 120
    # A tile whose long side is shorter than this is upscaled to it before the landmarker
    # sees it (larger tiles are passed as they are): the landmark model crops a person from
    # this image at 256 px, so a small tile is given room to crop from. Downscaling large
    # tiles too was measured slower (the resize costs more than it saves) for no recall.
    # None: every tile at its own size.
    tile_side_px: int | None = 512
    # A tile pose is cut (a ghost or a half person) when one of its in-frame torso points
    # lies within this fraction of the tile's side from an inner tile edge.
    edge_margin: float = 0.03
    # The detector's confidence threshold in tiles (None: the caller's
    # min_detection_confidence, which the whole-image pass and the confirmation crops
    # always use: a person found at a lower threshold must be found again at the usual
    # one, which keeps out the ghosts a low threshold lets in). Photos keep the caller's:
    # 0.3 found no more people on the real photos tried and doubled the time (every weak
    # detection costs a landmark-model run); the video search lowers it (see
    # pose_core.tracking.VIDEO_SEARCH).
    tile_detection_confidence: float | None = None
    # MediaPipe's detector reports the most salient person of what it sees and often no
    # one else, even with room for six (a street photo with two people standing clear of
    # each other: one found, at any confidence threshold). So the people the whole-image
    # pass found are painted out (their box filled with the image's mean colour) in the
    # tiles and in the confirmation crops: the detector then looks at the others. On 3
    # real photos with 12 people: 10 found instead of 8, no false people on 32 no-person
    # photos, ~1 % more time. Measured and dropped: painting each scale's finds in the
    # next scale's tiles (9 found), and a second whole-image pass with everyone found so
    # far painted out (no more people, ~8 % more time). False: tiles as they are.
    paint_found: bool = True
    # The painted box: the box around a found person's seen points, grown by this
    # fraction of its size on each side (hair and loose clothes outside the points).
    paint_margin: float = 0.1
    # A tile pose whose seen-points box lies more than this fraction under painted boxes is
    # dropped: it is a person partly hidden by the paint, whose pose is a guess (measured:
    # two people crossing, the one behind found a second time as a half-body duplicate).
    max_painted_fraction: float = 0.25
    # A tile at least this fraction under paint is not searched: what is left of it is a
    # strip beside the people already found, too narrow for a person who is neither cut
    # by the tile's edge nor partly under paint (both dropped above). None: search every tile.
    skip_painted_tile: float | None = 0.8
    # Poses from tiles need mean visibility x presence over nose, shoulders and hips of at
    # least this. 0.5 is where the quick experiment of crowd-notes brought false people
    # back to the whole-image level; upper-body people score ~0.6.
    min_score: float = 0.5
    # Two poses whose similarity reaches this are one person. Lower than COCO's usual 0.5
    # "same pose" line because two views of a half-visible person agree on the head and
    # shoulders but guess the hidden hips differently: measured 0.48 for such a duplicate
    # (same nose within 3 px), while people standing next to each other score <= 0.12.
    merge_similarity: float = 0.35
    # Confirmation crop: a square this many times the long side of the box around the
    # person's seen points, centred on that box (BlazePose's own tracking ROI is ~1.25x
    # the body; more context helps the detector find the person again in the crop).
    refine_scale: float = 1.8
    # Confirm each person found only in a tile by re-running the landmarker on a crop
    # centred on them: the person must be found again there. Measured on 32 no-person
    # photos: every ghost that passed the filters above (7, with scores up to 0.98) was
    # not found again, or found as a different pose (similarity 0.26); real people were
    # found again with similarity 0.45-0.99. False: keep tile poses unconfirmed.
    confirm: bool = True
    # A person found in this many overlapping tiles (their poses merged) is confirmed by
    # that and needs no crop: on 32 no-person photos every ghost that passed the filters
    # came from one tile, while 40 % of the people pasted on the canvases and 2 of the 8
    # found in tiles of 3 real photos came from two or three. Saves ~1 call per photo.
    # None: every tile find is confirmed (the video search's lower detector threshold
    # finds the same ghost in overlapping tiles: measured on scikit-image's rocket).
    views_confirm: int | None = 2
    # ...as the same person: at least this similarity between the two poses.
    confirm_similarity: float = 0.4
    # The crop is searched for up to the caller's max_poses, and at least this many: a
    # neighbour standing close takes the only one otherwise (measured: a person 110 px
    # below another was dropped). The caller's own count lets the crops share the tiles'
    # landmarkers (one per lane) instead of holding one more (~77 MB, full model); on
    # bench_people's canvases 6 poses a crop found the very people 2 did, in no more time.
    confirm_min_poses: int = 2
    # Replace the tile pose by the one found on the crop when that one scores higher.
    # Off: measured on pasted people, the crop's pose was less accurate (one scene: OKS
    # 0.75/0.72 against 0.93/0.90 for the tile's; bench_people: 0.41 against 0.42)
    # although its visibility x presence was higher, as crowd-notes found (naive
    # refinement cost single-person accuracy): that score is no measure of accuracy.
    keep_refined: bool = False
    # Limb (3D) lengths relative to the shoulder-hip distance must lie in this range: a
    # real upper arm is ~0.55 and a shin ~0.85 torso lengths, so the range is wide enough
    # for foreshortened estimates. A guard against degenerate skeletons only: the ghosts
    # measured here all had human proportions (ratios 0.18-0.87).
    limb_ratio_range: tuple[float, float] = (0.15, 2.0)
    # Tile poses cut by an inner tile edge are never kept as they are (what the tile cut
    # off is a guess, and a cut pose may be half a person). But a person too wide for the
    # tiles' overlap is cut in every tile that holds them, and the whole image shows them
    # too small for the detector. So up to this many cut poses that match no one found
    # are looked for again on a crop ``rescue_scale`` times the size of what the tile saw
    # of them (it then has room for the cut-off part). 0: cut poses are dropped. Measured
    # on bench_people's canvases in one run: recall 0.68 against 0.65 and mean OKS 0.56
    # against 0.53 (people with a 120 px head and torso: 1.00 against 0.92; 400 px: 0.92
    # against 0.83), for 0.2 calls more per photo; no false people on the 32 no-person
    # photos; the same people on the 14 real photos. 2.0 and 3.0 found the same people.
    # 3 bounds the extra time (~16 ms a crop): with no bound, 81 of 86 photos (canvases,
    # no-person and real photos) needed none, 3 one and 2 two.
    rescue_cut: int = 3
    rescue_scale: float = 2.5

    def __post_init__(self) -> None:
        if not self.tile_fractions or any(not 0.1 <= f <= 1.0 for f in self.tile_fractions):
            raise ValueError(f"tile_fractions must be in [0.1, 1], got {self.tile_fractions}")
        if self.fine_fraction is not None and not 0.1 <= self.fine_fraction <= 1.0:
            raise ValueError(f"fine_fraction must be in [0.1, 1] or None, got {self.fine_fraction}")
        if not 0.0 <= self.overlap < 0.9:
            raise ValueError(f"overlap must be in [0, 0.9), got {self.overlap}")
        if self.skip_painted_tile is not None and not 0.0 < self.skip_painted_tile <= 1.0:
            raise ValueError(f"skip_painted_tile must be in (0, 1] or None, got {self.skip_painted_tile}")
        if self.rescue_cut < 0 or self.rescue_scale < 1.0:
            raise ValueError(f"rescue_cut must be >= 0, rescue_scale >= 1: got {self.rescue_cut}, {self.rescue_scale}")


@dataclass(frozen=True, eq=False)
class FoundPerson:
    """One person found by the search."""

    pose: PoseResult  # in the coordinates of the whole image
    bbox_px: Box  # x0, y0, x1, y1: pose_bbox_px(pose)
    score: float  # 0..1: mean visibility x presence over nose, shoulders and hips
    source: Source  # which pass produced the pose kept for this person


@dataclass(frozen=True)
class SearchResult:
    """What one search found."""

    people: tuple[FoundPerson, ...]  # confirmed, left to right: what ``CrowdSearch.find`` returns
    # Tile finds (passing every filter but the confirmation crop) not found again there and
    # no duplicate of a person in ``people``, left to right. On the photos and clips measured
    # most are people too soft or small for the detector's usual threshold, but some are
    # ghosts (a cloth on grass, a kerb), so they are never reported as they are.
    unconfirmed: tuple[FoundPerson, ...]


# --- Plain functions the video tracker reuses --------------------------------------------


def pose_bbox_px(pose: PoseResult, min_presence: float = 0.5) -> Box:
    """The box around the landmarks the model places inside the frame (presence at least
    ``min_presence``; all 33 when fewer than two are), clipped to the image, in pixels."""
    xy = pose.landmarks_px  # (33, 2)
    measured = ~np.isnan(xy).any(axis=1)  # a hand-made or partly missing pose has NaN points
    inside = measured & (pose.presence >= min_presence)
    xy = xy[inside] if inside.sum() >= 2 else xy[measured]
    width, height = pose.image_size
    if not len(xy):
        return 0.0, 0.0, 0.0, 0.0
    x0, y0 = np.clip(xy.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(xy.max(axis=0), 0, [width, height])
    return float(x0), float(y0), float(x1), float(y1)


def visible_box_px(pose: PoseResult) -> Box:
    """The box around the points the model sees (visibility and presence at least 0.5),
    else :func:`pose_bbox_px`. A crop sized from a box that includes guessed hidden parts
    (legs behind a table) is so large that the person is too small in it to be found again
    (measured: a head-and-torso 200 px tall, box 453 px with the guessed hips, not re-found)."""
    seen = (pose.visibility >= 0.5) & (pose.presence >= 0.5)
    if seen.sum() < 3:
        return pose_bbox_px(pose)
    xy = pose.landmarks_px[seen]  # (k, 2)
    width, height = pose.image_size
    x0, y0 = np.clip(xy.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(xy.max(axis=0), 0, [width, height])
    return float(x0), float(y0), float(x1), float(y1)


def torso_size_px(pose: PoseResult) -> float:
    """The larger of shoulder width and shoulder-to-hip length, in pixels: one of the two
    stays long whether the person faces the camera, stands sideways or bends over."""
    xy = pose.landmarks_px
    shoulders = np.linalg.norm(xy[_L_SHOULDER] - xy[_R_SHOULDER])
    mid_shoulder = (xy[_L_SHOULDER] + xy[_R_SHOULDER]) / 2
    mid_hip = (xy[_L_HIP] + xy[_R_HIP]) / 2
    return float(max(shoulders, np.linalg.norm(mid_shoulder - mid_hip), 1.0))


def torso_centre_px(pose: PoseResult) -> np.ndarray:
    """(2,) the mean of the shoulders and hips, in pixels."""
    return pose.landmarks_px[_TORSO].astype(np.float64).mean(axis=0)


def pose_similarity(a: PoseResult, b: PoseResult) -> float:
    """OKS-like similarity of two poses of one image, in [0, 1]: 1 is the same points.

    Over COCO's 17 body keypoints with COCO's sigmas, distances scaled by the mean torso
    size of the two poses (see :func:`torso_size_px`), each point weighted by how sure
    both poses are that it is in the frame (the lower presence), since a point outside
    the frame is a guess.
    """
    if a.image_size != b.image_size:
        raise ValueError(f"poses of different images: {a.image_size} vs {b.image_size}")
    scale = _AREA_SCALE_PER_TORSO * (torso_size_px(a) + torso_size_px(b)) / 2
    d2 = np.sum((a.landmarks_px[COCO_INDEX] - b.landmarks_px[COCO_INDEX]) ** 2, axis=1, dtype=np.float64)
    per_point = np.exp(-d2 / (2.0 * (scale * 2.0 * COCO_SIGMAS) ** 2))
    weight = np.minimum(a.presence[COCO_INDEX], b.presence[COCO_INDEX]).astype(np.float64)
    if weight.sum() < 1e-6:  # neither has any point in the frame: compare them all equally
        weight = np.ones_like(weight)
    return float(np.sum(per_point * weight) / np.sum(weight))


def support_score(pose: PoseResult) -> float:
    """Mean visibility x presence over nose, shoulders and hips, in [0, 1]."""
    return float(np.mean(pose.visibility[_CORE] * pose.presence[_CORE]))


def plausible(pose: PoseResult, ratio_range: tuple[float, float] = CrowdSettings.limb_ratio_range) -> bool:
    """Whether the 3D skeleton has human proportions: each limb and the shoulder width
    between ``ratio_range`` times the shoulder-to-hip length (world landmarks, metres)."""
    world = pose.world_landmarks.astype(np.float64)
    torso = np.linalg.norm((world[_L_SHOULDER] + world[_R_SHOULDER]) / 2 - (world[_L_HIP] + world[_R_HIP]) / 2)
    if not np.isfinite(torso) or torso < 1e-3:
        return False
    low, high = ratio_range
    return all(low <= np.linalg.norm(world[i] - world[j]) / torso <= high for i, j in _LIMBS)


# --- Tiles --------------------------------------------------------------------------------


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    """Evenly spread tile origins covering [0, length) with at least ``overlap`` shared."""
    if tile >= length:
        return [0]
    count = math.ceil((length - tile) / (tile * (1.0 - overlap))) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def tile_grid(width: int, height: int, crowd: CrowdSettings = CrowdSettings()) -> tuple[tuple[int, int, int, int], ...]:
    """Tiles (x0, y0, x1, y1) in pixels for every scale, largest first, without the whole
    image itself and without repeats (a square photo has no 1.0 tiles)."""
    tiles: list[tuple[int, int, int, int]] = []
    fractions = crowd.tile_fractions
    if crowd.fine_fraction is not None and min(width, height) < crowd.fine_below_px:
        fractions = (*fractions, crowd.fine_fraction)
    for fraction in fractions:
        side = round(fraction * min(width, height))
        if side < crowd.min_tile_px:
            continue
        for y0 in _starts(height, side, crowd.overlap):
            for x0 in _starts(width, side, crowd.overlap):
                tile = (x0, y0, min(x0 + side, width), min(y0 + side, height))
                if tile != (0, 0, width, height) and tile not in tiles:
                    tiles.append(tile)
    return tuple(tiles)


def to_image(pose: PoseResult, window: tuple[int, int, int, int], image_size: tuple[int, int]) -> PoseResult:
    """A pose found in ``window`` (x0, y0, x1, y1 of the image, whatever size it was
    resized to) as a pose of the whole image."""
    x0, y0, x1, y1 = window
    width, height = image_size
    tile_w, tile_h = x1 - x0, y1 - y0
    lm = np.empty((pose.landmarks.shape[0], 3), np.float32)  # (33, 3)
    lm[:, 0] = (x0 + pose.landmarks[:, 0] * tile_w) / width
    lm[:, 1] = (y0 + pose.landmarks[:, 1] * tile_h) / height
    lm[:, 2] = pose.landmarks[:, 2] * tile_w / width  # z is on x's scale
    mask = None
    if pose.segmentation_mask is not None:
        mask = np.zeros((height, width), np.uint8)
        mask[y0:y1, x0:x1] = cv2.resize(pose.segmentation_mask, (tile_w, tile_h), interpolation=cv2.INTER_LINEAR)
    return PoseResult(
        landmarks=lm,
        visibility=pose.visibility,
        presence=pose.presence,
        world_landmarks=pose.world_landmarks,
        image_size=image_size,
        segmentation_mask=mask,
    )


def _cut_by_inner_edge(pose: PoseResult, window: tuple[int, int, int, int], crowd: CrowdSettings) -> bool:
    """Whether an in-frame torso point of this (image-coordinate) pose lies on or beyond an
    edge of ``window`` that is inside the image (an image border cuts nobody: plain mode
    sees the same border)."""
    x0, y0, x1, y1 = window
    width, height = pose.image_size
    margin = crowd.edge_margin * max(x1 - x0, y1 - y0)
    torso = pose.landmarks_px[_TORSO][pose.presence[_TORSO] >= 0.5]  # (k, 2)
    if torso.size == 0:
        return True  # no torso point in the frame: nothing to stand on
    x, y = torso[:, 0], torso[:, 1]
    return bool(
        (x0 > 0 and np.any(x < x0 + margin))
        or (y0 > 0 and np.any(y < y0 + margin))
        or (x1 < width and np.any(x > x1 - margin))
        or (y1 < height and np.any(y > y1 - margin))
    )


def square_window(cx: float, cy: float, half: float, image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The square of side ``2 * half`` centred on (cx, cy), clipped to the image:
    (x0, y0, x1, y1) in pixels (a crop around one person, as BlazePose tracks them)."""
    width, height = image_size
    return (
        max(0, round(cx - half)),
        max(0, round(cy - half)),
        min(width, round(cx + half)),
        min(height, round(cy + half)),
    )


def painted_out(rgb: np.ndarray, boxes: Sequence[Box], margin: float, fill: np.ndarray | bool) -> np.ndarray:
    """A copy of an (H, W, 3) image with each box (x0, y0, x1, y1 pixels, grown by
    ``margin`` of its width and height on each side) filled with the colour ``fill`` (3,);
    an (H, W) array works too, with a scalar ``fill`` (the search's paint mask)."""
    out = rgb.copy()
    height, width = rgb.shape[:2]
    for box in boxes:
        x0, y0, x1, y1 = _grown(box, margin)
        out[max(0, round(y0)) : min(height, round(y1)), max(0, round(x0)) : min(width, round(x1))] = fill
    return out


def _scaled(box: Box, factor: float) -> Box:
    """``box`` with every coordinate times ``factor``."""
    x0, y0, x1, y1 = box
    return x0 * factor, y0 * factor, x1 * factor, y1 * factor


def _grown(box: Box, margin: float) -> Box:
    """``box`` grown by ``margin`` of its width and height on each side."""
    x0, y0, x1, y1 = box
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    return x0 - mx, y0 - my, x1 + mx, y1 + my


def covered_fraction(box: Box, cover: Sequence[Box]) -> float:
    """The largest fraction of ``box``'s area that one box of ``cover`` overlaps."""
    x0, y0, x1, y1 = box
    area = max(x1 - x0, 1e-6) * max(y1 - y0, 1e-6)
    return max(
        (max(0.0, min(x1, c[2]) - max(x0, c[0])) * max(0.0, min(y1, c[3]) - max(y0, c[1])) / area for c in cover),
        default=0.0,
    )


_MASK_STEP = 8  # the paint mask's cell, in pixels: tile shares to within a few per cent


def _painted_share(mask: np.ndarray, window: tuple[int, int, int, int]) -> float:
    """The fraction of ``window`` (x0, y0, x1, y1 pixels) that ``mask``'s cells cover."""
    x0, y0, x1, y1 = (round(v / _MASK_STEP) for v in window)
    cells = mask[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]
    return float(cells.mean()) if cells.size else 0.0


def mean_colour(rgb: np.ndarray) -> np.ndarray:
    """(3,) uint8: the mean colour of every 8th pixel each way (the mean of every pixel of
    a 12 MP photo costs more than a landmarker call)."""
    return rgb[::8, ::8].reshape(-1, 3).mean(axis=0).astype(np.uint8)


def resized_to(rgb: np.ndarray, long_side: int | None) -> np.ndarray:
    """``rgb`` scaled to ``long_side`` pixels on its long side (None: as it is), contiguous."""
    height, width = rgb.shape[:2]
    factor = 1.0 if long_side is None else long_side / max(width, height)
    if abs(factor - 1.0) < 0.01:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_LINEAR  # AREA avoids aliasing
    return cv2.resize(rgb, size, interpolation=interpolation)


LANDMARK_INPUT_PX = 256  # the landmark model's input size


# --- The search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    pose: PoseResult
    score: float
    source: Source
    views: int = 1  # tiles whose pose merged into this one (itself included)


class CrowdSearch:
    """Everyone in a photo: whole image + tiles at two scales + one confirmation crop per
    person found in a tile. Thread-safe if the estimators are (IMAGE mode ones are).

    ``lanes``: how many landmarkers search the tiles and the confirmation crops at once
    (see :func:`run_on_lanes`); the people found are the same for any number. The rescue
    crops for cut poses (rare: 0.2 a photo) stay on lane 0: each is looked for only when
    no earlier find already stands for that person.
    """

    def __init__(
        self,
        estimator_for: EstimatorFor,
        settings: PoseSettings,
        crowd: CrowdSettings = CrowdSettings(),
        *,
        lanes: int = 1,
    ) -> None:
        if lanes < 1:
            raise ValueError(f"lanes must be at least 1, got {lanes}")
        self.settings = settings
        self.crowd = crowd
        self.lanes = lanes
        self._estimator_for = estimator_for
        self._calls_lock = threading.Lock()
        self.calls = 0  # landmarker calls made by this search object (tests, benchmarks)

    def _detect(self, rgb: np.ndarray, max_poses: int, *, tile: bool = False, lane: int = 0) -> tuple[PoseResult, ...]:
        with self._calls_lock:  # tiles are searched from several threads
            self.calls += 1
        settings = replace(self.settings, max_poses=max_poses)
        if tile and self.crowd.tile_detection_confidence is not None:
            settings = replace(settings, min_detection_confidence=self.crowd.tile_detection_confidence)
        return self._estimator_for(settings, lane).detect(rgb)

    def find(self, rgb: np.ndarray) -> tuple[FoundPerson, ...]:
        """Everyone found in an (H, W, 3) uint8 RGB image, left to right, at most
        ``settings.max_poses`` (the best supported when there are more)."""
        return self.search(rgb).people

    def search(self, rgb: np.ndarray) -> SearchResult:
        """:meth:`find`'s people, and the tile finds their confirmation crop did not find
        again (which a video tracker may still confirm another way)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}")
        height, width = rgb.shape[:2]
        size = (width, height)

        # Whole-image poses are plain mode's output and are kept as they are.
        kept = [_Candidate(p, support_score(p), "whole") for p in self._detect(rgb, self.settings.max_poses)]

        # The tiles are cut from the image with the whole-image people painted out (see paint_found).
        fill = mean_colour(rgb)
        whole = [visible_box_px(c.pose) for c in kept]  # the whole-image people's seen boxes
        source, painted = rgb, []
        if self.crowd.paint_found and whole:
            painted = [_grown(box, self.crowd.paint_margin) for box in whole]
            source = painted_out(rgb, painted, 0.0, fill)
        tile_poses: list[_Candidate] = []
        cut_poses: list[_Candidate] = []  # cut by an inner tile edge: never kept as they are
        # Which 8 x 8 cells are under paint (a union: overlapping people count once).
        paint_mask = None
        if painted and self.crowd.skip_painted_tile is not None:
            cells = (-(-height // _MASK_STEP), -(-width // _MASK_STEP))
            paint_mask = painted_out(np.zeros(cells, bool), [_scaled(b, 1 / _MASK_STEP) for b in painted], 0.0, True)
        windows = [
            window
            for window in tile_grid(width, height, self.crowd)
            if paint_mask is None or _painted_share(paint_mask, window) < self.crowd.skip_painted_tile
        ]

        def search_tile(window: tuple[int, int, int, int], lane: int) -> list[tuple[_Candidate, bool]]:
            """The usable poses of one tile, each with whether an inner tile edge cuts it."""
            x0, y0, x1, y1 = window
            tile = source[y0:y1, x0:x1]
            if self.crowd.tile_side_px is not None and max(tile.shape[:2]) < self.crowd.tile_side_px:
                tile = resized_to(tile, self.crowd.tile_side_px)
            finds = []
            for found in self._detect(tile, self.settings.max_poses, tile=True, lane=lane):
                pose = to_image(found, window, size)
                score = support_score(pose)
                if self._usable(pose, score, painted):
                    finds.append((_Candidate(pose, score, "tile"), _cut_by_inner_edge(pose, window, self.crowd)))
            return finds

        # In tile order whatever the lanes, so the merge below sees the same list.
        for finds in run_on_lanes(self.lanes, search_tile, windows):
            for candidate, cut in finds:
                (cut_poses if cut else tile_poses).append(candidate)

        # Greedy merge: best supported first; a pose as similar as one person to a kept
        # one is that person again. Whole-image poses were kept first so they win.
        # Each merged pose counts as one more view of the person it merged into.
        for candidate in sorted(tile_poses, key=lambda c: -c.score):
            similar = (
                i for i, k in enumerate(kept) if pose_similarity(candidate.pose, k.pose) >= self.crowd.merge_similarity
            )
            if (i := next(similar, None)) is None:
                kept.append(candidate)
            else:
                kept[i] = replace(kept[i], views=kept[i].views + 1)

        # A person cut by the edge of every tile they are in (too wide for the overlap, or
        # straddling a row of tiles) is looked for again on a crop around the cut pose.
        rescues = 0
        for candidate in sorted(cut_poses, key=lambda c: -c.score):
            if rescues >= self.crowd.rescue_cut:
                break
            if _like_anyone(candidate.pose, kept, self.crowd.merge_similarity):
                continue  # someone already found: another tile held them whole
            rescues += 1
            rescued = self._rescued(rgb, candidate, whole, fill)
            if rescued and not _like_anyone(rescued.pose, kept, self.crowd.merge_similarity):
                kept.append(rescued)

        doubtful: list[_Candidate] = []
        if self.crowd.confirm:
            # Each crop depends only on the whole-image people, so they run on the lanes too.
            unsure = [i for i, c in enumerate(kept) if c.source == "tile" and not self._seen_enough(c)]
            crops = run_on_lanes(self.lanes, lambda i, lane: self._confirmed(rgb, kept[i], whole, fill, lane), unsure)
            checked: list[_Candidate | None] = list(kept)
            for i, crop in zip(unsure, crops, strict=True):
                checked[i] = crop
            confirmed = [c for c in checked if c is not None]
            doubtful = [k for k, c in zip(kept, checked, strict=True) if c is None]
            kept = _merge_again(confirmed, self.crowd.merge_similarity)
        best = sorted(kept, key=lambda c: -c.score)[: self.settings.max_poses]
        doubtful = [c for c in doubtful if not _like_anyone(c.pose, kept, self.crowd.merge_similarity)]
        return SearchResult(_found(best), _found(doubtful))

    def _usable(self, pose: PoseResult, score: float, painted: Sequence[Box]) -> bool:
        """Whether a pose from a tile or crop is well enough supported, of human
        proportions, and not mostly under the ``painted`` boxes."""
        return (
            score >= self.crowd.min_score
            and plausible(pose, self.crowd.limb_ratio_range)
            and covered_fraction(visible_box_px(pose), painted) <= self.crowd.max_painted_fraction
        )

    def _seen_enough(self, candidate: _Candidate) -> bool:
        return self.crowd.views_confirm is not None and candidate.views >= self.crowd.views_confirm

    def _confirmed(
        self, rgb: np.ndarray, candidate: _Candidate, whole: Sequence[Box], fill: np.ndarray, lane: int = 0
    ) -> _Candidate | None:
        """The person re-run alone on a square crop centred on them (as BlazePose tracks a
        person): None when they are not found again as the same person, else the better
        supported of the tile pose and the refined one if ``keep_refined``, else the tile pose."""
        found = self._same_person_around(rgb, candidate.pose, self.crowd.refine_scale, whole, fill, lane)
        if found is None:
            return None
        pose, _ = found
        score = support_score(pose)
        if self.crowd.keep_refined and score > candidate.score and plausible(pose, self.crowd.limb_ratio_range):
            return _Candidate(pose, score, "refined")
        return candidate

    def _rescued(
        self, rgb: np.ndarray, candidate: _Candidate, whole: Sequence[Box], fill: np.ndarray
    ) -> _Candidate | None:
        """A person whose tile pose was cut by the tile's edge, looked for on a larger crop
        around what the tile saw of them: the crop's pose when it is the same person, whole
        in the crop, well supported and plausible, else None. Seen in the tile and found
        again in the crop, it needs no confirmation crop."""
        found = self._same_person_around(rgb, candidate.pose, self.crowd.rescue_scale, whole, fill)
        if found is None:
            return None
        pose, window = found
        score = support_score(pose)
        if not self._usable(pose, score, whole) or _cut_by_inner_edge(pose, window, self.crowd):
            return None
        return _Candidate(pose, score, "refined", views=2)

    def _same_person_around(
        self, rgb: np.ndarray, pose: PoseResult, scale: float, whole: Sequence[Box], fill: np.ndarray, lane: int = 0
    ) -> tuple[PoseResult, tuple[int, int, int, int]] | None:
        """The landmarker run on a square crop ``scale`` times the long side of ``pose``'s
        seen points, centred on them, with the whole-image people painted out as in the
        tiles (else the detector reports a more salient one of them in the crop instead):
        the crop's pose most similar to ``pose`` (image coordinates) and the crop window,
        or None when no pose there is at least ``confirm_similarity`` like it. The painted
        boxes are not grown here: a neighbour's margin would cover part of this person."""
        height, width = rgb.shape[:2]
        x0, y0, x1, y1 = visible_box_px(pose)
        window = square_window((x0 + x1) / 2, (y0 + y1) / 2, scale * max(x1 - x0, y1 - y0) / 2, (width, height))
        if window[2] - window[0] < 8 or window[3] - window[1] < 8:
            return None
        region = rgb[window[1] : window[3], window[0] : window[2]]
        if self.crowd.paint_found and whole:
            shifted = [(a - window[0], b - window[1], c - window[0], d - window[1]) for a, b, c, d in whole]
            region = painted_out(region, shifted, 0.0, fill)
        # The landmark model's input is 256 px; a crop of that size loses nothing it could use.
        crop = resized_to(region, LANDMARK_INPUT_PX)
        max_poses = max(self.crowd.confirm_min_poses, self.settings.max_poses)
        poses = [to_image(p, window, (width, height)) for p in self._detect(crop, max_poses, lane=lane)]
        if not poses:
            return None
        similarity, best = max(((pose_similarity(p, pose), p) for p in poses), key=lambda sp: sp[0])
        return (best, window) if similarity >= self.crowd.confirm_similarity else None


def _found(candidates: Sequence[_Candidate]) -> tuple[FoundPerson, ...]:
    """The candidates as found people, left to right."""
    by_pose = {id(c.pose): c for c in candidates}
    return tuple(
        FoundPerson(pose=p, bbox_px=pose_bbox_px(p), score=by_pose[id(p)].score, source=by_pose[id(p)].source)
        for p in left_to_right([c.pose for c in candidates])
    )


def _merge_again(candidates: Sequence[_Candidate], threshold: float) -> list[_Candidate]:
    """A refined pose can land on a person another pose already stands for: keep the first
    of each such pair in the given order (whole-image poses come first)."""
    kept: list[_Candidate] = []
    for candidate in candidates:
        if not _like_anyone(candidate.pose, kept, threshold):
            kept.append(candidate)
    return kept


def _like_anyone(pose: PoseResult, candidates: Sequence[_Candidate], threshold: float) -> bool:
    """Whether ``pose`` is as similar as one person to one of ``candidates``' poses."""
    return any(pose_similarity(pose, c.pose) >= threshold for c in candidates)
