"""Find everyone in a video: several people followed from frame to frame.

VIDEO mode's landmarker only tracks the people its detector finds on the whole frame, so
in a group or surveillance clip (people small and far away) it finds nobody. A
:class:`CrowdTracker` has the same call shape as ``VideoPoseEstimator.detect`` and, per
frame, in order:

1. follows each person it knows with a crop around their last pose, as BlazePose itself
   tracks a person: a square around the points the model saw, moved by the person's
   recent velocity, upscaled for the landmarker (other framings when the first fails);
   in it, the pose most like the last one is that person. A track whose pose vanishes,
   is weakly supported, implausible or unlike the last one is dropped;
2. drops the later of two tracks that landed on the same person (one person hides the
   other as they cross);
3. every half second of video, and soon after someone was lost, re-runs the multi-scale
   search of :mod:`pose_core.crowd` on the whole frame; a person it finds who is not one
   of the tracked poses (pose similarity) becomes a new track, up to
   ``settings.max_poses``; a tile find its confirmation crop could not confirm is
   followed on probation, unreported, and becomes a person only once it has walked
   (moved against the background, the camera's own motion measured and taken out),
   since the ghosts a low detector threshold lets in stand on still things;
4. returns the confirmed people left to right, as the search and plain mode do.

Identity from frame to frame is left to ``pose_core.series.IdentityTracker`` (an optimal
assignment with a distance gate) downstream; :attr:`CrowdTracker.track_ids` tells which
track each returned pose came from, for callers that want this tracker's own identities.

It holds state (tracks, velocities, the last timestamp): one tracker per video job,
never shared. It is built from IMAGE-mode landmarkers obtained through ``estimator_for``
(as :class:`pose_core.crowd.CrowdSearch` is), which may be shared. With ``lanes`` > 1 the
people are followed, and the search's tiles searched, on that many landmarkers at once
(the same tracks, sooner). No MediaPipe here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np

from pose_core.crowd import (
    LANDMARK_INPUT_PX,
    CrowdSearch,
    CrowdSettings,
    EstimatorFor,
    covered_fraction,
    plausible,
    pose_similarity,
    resized_to,
    run_on_lanes,
    square_window,
    support_score,
    to_image,
    torso_centre_px,
    torso_size_px,
    visible_box_px,
)
from pose_core.errors import SettingsError
from pose_core.schema import INDEX
from pose_core.types import PoseResult, PoseSettings, left_to_right

# The points a crop is sized and centred on: face, arms and hips (BlazePose 0-24), not the
# legs. The model places legs it cannot see, often with visibility >= 0.5 (measured: a
# head-and-torso 51 px tall got a "seen" box 86 px tall from guessed knees and ankles), and
# a crop built on them is off-centre with the person too small in it. For a standing
# person, head to hips is about half their height.
_UPPER_BODY = np.arange(INDEX["right_hip"] + 1)

# A pose on probation moved onto its first one must be at least this like it: COCO's "same
# pose" line, so it is the same body that walked, not a pose that changed shape.
_SAME_BODY_SIMILARITY = 0.5

# Camera motion is measured on frames shrunk to this long side (~1 ms a frame at 480x360):
# at 160 px a person walking 7 px a frame against a 3 px pan pulled the estimate to 2.1 px
# (the two correlation peaks fall in one sub-pixel window); at 320 px it reads 3.0.
_SHIFT_SIDE_PX = 320


@dataclass(frozen=True)
class TrackingSettings:
    """How people are followed between searches. Measured on the surveillance-style clips
    of ``bench/bench_people.py`` (480x360, people 50-70 px head and torso, 10 fps)."""

    # A full search this often (seconds of video) finds newcomers. At 480x360 a search
    # costs ~25 landmarker calls (VIDEO_SEARCH's 23 tiles, the whole frame,
    # confirmations) and following a person 1-3, so with four people at 10 fps following
    # costs more than searching every 0.5 s (+2.5 calls per frame against every 1 s).
    # Every 0.5 s, since one search misses a small, clearly visible person about half the
    # time (measured: a head-and-torso 56 px tall standing still, found by 10 of 18
    # searches): a newcomer is then found within about a second, not two or three. In
    # seconds, not frames, so a 30 fps clip is not searched three times as often as a
    # 10 fps one for the same wait.
    redetect_every_s: float = 0.5
    # After a track is dropped, search again this many frames after the last search at the
    # earliest (a person hidden behind another for 20 frames must not cost 20 searches).
    redetect_after_loss: int = 2
    # The crops a person is looked for in until they are found: squares this many times
    # the long side of a box around them ("seen": every point the model sees; "upper":
    # face, arms and hips only), centred on it, each a nearly independent try (the
    # detector misses a clearly visible person in one crop in 8-20 % of frames); the one
    # that found the person last time is tried first. On a real surveillance clip
    # (480x360, 10 fps, people 40-90 px tall) the video search's finds were found again
    # on the next frame in 57 of 66 cases at 2x the seen box (a passer-by's whole
    # height), against 16 at 1.8x the upper body (which enlarges a tiny person ~6x and
    # cuts their legs), 38 at 2.6x and 53 at 3.6x. But the model places legs it cannot
    # see, often with visibility >= 0.5 (a head-and-torso 51 px tall got a seen box 86 px
    # tall from guessed knees), so a half-body person is too small in a seen-box crop:
    # without the upper-body crops, the person behind in the crossing test was followed
    # in 1 of 8 frames. Over the real clip's 795 frames: 2.93 people per frame, 18.0
    # landmarker calls; the same crops always upper body 1.8x first: 2.67, 22.3 calls.
    crops: tuple[tuple[Literal["seen", "upper"], float], ...] = (
        ("seen", 2.0),
        ("upper", 1.8),
        ("upper", 2.6),
        ("seen", 3.0),
    )
    # The crop is resized to this long side: the landmark model's input size (256 px);
    # a small person is upscaled so the detector sees them at the size it was trained on.
    crop_side_px: int = LANDMARK_INPUT_PX
    # A track not found for more frames in a row than this is dropped; until then it is
    # kept (not reported) and looked for where its velocity takes it, and a search that
    # finds someone there revives it rather than starting a new track.
    max_missed: int = 3
    # Poses looked for in the crop: a neighbour close by takes the only one otherwise
    # (the photo search's confirmation crop measured the same).
    crop_max_poses: int = 2
    # The detector's confidence threshold in following crops (None: the caller's). Lower
    # than the usual 0.5: only people confirmed or on probation (below) are followed, and
    # the crop's pose must still be like the last one; a small, soft person scores around
    # 0.5 from frame to frame and was lost at every dip. On the real clip above (795
    # frames, crops then upper body 2.6x first): 2.93 people per frame against 2.67 at
    # 0.5, no ghost seen. It costs identity switches on bench_people.py's pasted walkers
    # (6 against 2 over 180 frames: a neighbour taken for the person for a frame).
    follow_detection_confidence: float | None = 0.3
    # The crop's best pose is the same person when its similarity to the last pose, moved
    # by the person's velocity, reaches this. The same person one frame later scored
    # 0.6-0.99 in the clips; a neighbour in the crop <= 0.15 (CrowdSettings' measurements
    # put neighbours under 0.12 in photos).
    follow_similarity: float = 0.3
    # A followed pose needs mean visibility x presence over nose, shoulders and hips of at
    # least this, the photo search's line for tile poses (where ghosts were measured).
    min_score: float = 0.5
    # A person the search finds with more than this fraction of their seen-points box
    # inside a followed person's is not a new track (see _add_newcomers).
    max_inside_tracked: float = 0.6
    # A search's tile find that its confirmation crop did not find again is followed on
    # probation (not reported): it becomes a person once it has moved at least this many
    # torso sizes against the background (camera motion taken out), followed in at least
    # ``probation_frames`` frames, or once a later search confirms it; it is dropped when
    # missed or after ``probation_s`` seconds. People walk; the ghosts a low threshold lets
    # in stand on still things (a cloth on grass, a kerb, a panned rocket), and a real
    # person too soft for the confirmation crop (surveillance video: a little blur and
    # compression took a clip's 70 px people from 16/32 confirmed to 0/32) still moves.
    # On the real clip about half the tile finds were unconfirmed, some of them real
    # people, some ghosts on still things; with probation 2.67 people per frame against
    # 2.61 without (795 frames, following at 0.5, crops upper body first), and every person it
    # let in, checked by eye on frames every 4 s, was a real one. Small, because most of
    # those finds are not found again in the next frame's crop either. 0 disables
    # probation: unconfirmed finds are forgotten.
    probation_move_torsos: float = 0.6
    probation_frames: int = 3
    probation_s: float = 2.0
    # A person the search found in a tile only (not on the whole frame) is reported from
    # the first frame they are followed in, not the frame they were found in: a ghost
    # that passed the search's confirmation crop (a fold of scikit-image's rocket, in some
    # runs: the model's output varies in the last digits from process to process) is not
    # found again on the next frame, a person is. Costs each newcomer one frame.
    # 0: tile finds are reported at once.
    tile_finds_follows_first: int = 1
    # Velocity is smoothed from frame to frame with this weight on the newest step, so a
    # jittery landmark does not throw the next crop; 0: no motion prediction.
    velocity_weight: float = 0.5
    # The predicted move is capped at this many torso sizes per frame (a bad velocity
    # estimate must not throw the crop off a person standing still).
    max_step_torsos: float = 1.0

    def __post_init__(self) -> None:
        if self.redetect_every_s <= 0 or self.redetect_after_loss < 1:
            raise ValueError("redetect_every_s must be positive and redetect_after_loss 1 or more")
        if not self.crops or any(box not in ("seen", "upper") or scale < 1.0 for box, scale in self.crops):
            raise ValueError(f"crops must be ('seen' or 'upper', scale >= 1) pairs, got {self.crops}")
        if self.tile_finds_follows_first < 0:
            raise ValueError(f"tile_finds_follows_first must be 0 or more, got {self.tile_finds_follows_first}")
        if self.probation_move_torsos < 0 or self.probation_frames < 1 or self.probation_s <= 0:
            raise ValueError("probation_move_torsos must be >= 0, probation_frames >= 1, probation_s > 0")
        if not 0.0 <= self.velocity_weight <= 1.0:
            raise ValueError(f"velocity_weight must be in [0, 1], got {self.velocity_weight}")


# The search a video runs every few frames: finer than a photo's, since video has no
# per-image time target and its people are small (surveillance: 480x360, people ~70 px
# tall). A third tile scale of 0.4 of the short side (144 px tiles on 480x360, down to
# 128 px: a 70 px person is half a tile, where the detector finds them); tiles sharing a
# quarter of their side; small tiles enlarged to 256 px rather than the photo search's
# 512 (the detector sees every image at 224 px: a second resampling from 512 lost
# people, measured below); a detector threshold of 0.3 in tiles, while confirmation
# crops keep the usual 0.5 and every tile find is confirmed (a low threshold finds the
# same ghost in two tiles): that holds ghosts off. Measured on 480x360 clips of five
# walkers at 10 fps (3 clips x 40 frames, real people pasted on gravel): full-body
# people 60-80 px tall, 2.75 people found per frame of 4.45 present, someone in 99 % of
# frames (photo search: 1.48 and 97 %; 512 px tiles: 2.35); head-and-torso people 50-70
# px, 4.13 (photo search: 4.01); 0 false people on the no-person photos and clips of
# bench_people.py and the tests. It costs ~12-20 landmarker calls per frame against ~7.
VIDEO_SEARCH = CrowdSettings(
    tile_fractions=(1.0, 0.6, 0.4),
    fine_fraction=None,  # its own three scales, for frames of any size
    overlap=0.25,
    min_tile_px=128,
    tile_side_px=256,
    tile_detection_confidence=0.3,
    views_confirm=None,
    # Not measured on video: off, so the clips' measured people and time stay as above
    # (a person cut in one search may be whole in the next, half a second later).
    rescue_cut=0,
)


@dataclass
class _Track:
    id: int
    pose: PoseResult
    velocity: np.ndarray  # (2,) pixels per frame step, smoothed
    seen: PoseResult  # the last pose found (``pose`` is the expected one while missed)
    similarity: float = 1.0  # of this frame's pose to the prediction (1 for a new track)
    missed: int = 0  # frames in a row it was not found; its pose is then the expected one
    confirmed: bool = True  # False: on probation, followed but not reported
    born_ms: int = 0  # when the search found it
    origin: PoseResult | None = None  # the pose the search found, for one on probation
    background_px: np.ndarray = field(default_factory=lambda: np.zeros(2))  # (2,) camera shift since
    followed: int = 0  # frames it was followed in since
    from_tile: bool = False  # found by the search in a tile, not on the whole frame
    crop: int = 0  # the TrackingSettings.crops entry it was last found in: tried first


def _upper_box_px(pose: PoseResult) -> tuple[float, float, float, float]:
    """The box around the face, arm and hip points the model sees (visibility and presence
    at least 0.5), clipped to the image; all 25 when fewer than three are seen."""
    points = pose.landmarks_px[_UPPER_BODY].astype(np.float64)
    seen = (pose.visibility[_UPPER_BODY] >= 0.5) & (pose.presence[_UPPER_BODY] >= 0.5)
    if seen.sum() >= 3:
        points = points[seen]
    width, height = pose.image_size
    x0, y0 = np.clip(points.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(points.max(axis=0), 0, [width, height])
    return float(x0), float(y0), float(x1), float(y1)


def shrunk_grey(rgb: np.ndarray, long_side: int = _SHIFT_SIDE_PX) -> tuple[np.ndarray, float]:
    """An (H, W, 3) RGB frame in grey (float32) at ``long_side`` on its long side at most,
    and the factor it was shrunk by."""
    height, width = rgb.shape[:2]
    factor = min(1.0, long_side / max(width, height))
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32), factor


def picture_shift(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """(2,) the shift (x, y) in pixels that moves ``previous`` onto ``current`` (two grey
    float32 frames of one size): phase correlation, which follows the dominant motion (a
    panning camera's background) and shrugs off a few people walking across it."""
    window = cv2.createHanningWindow(previous.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(previous, current, window)
    return np.array([dx, dy])


def _centre(box: tuple[float, float, float, float]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _moved(pose: PoseResult, shift_px: np.ndarray) -> PoseResult:
    """``pose`` moved by ``shift_px`` (x, y) pixels."""
    if not np.any(shift_px):
        return pose
    width, height = pose.image_size
    landmarks = pose.landmarks.astype(np.float64).copy()
    landmarks[:, 0] += shift_px[0] / width
    landmarks[:, 1] += shift_px[1] / height
    return replace(pose, landmarks=landmarks.astype(np.float32), segmentation_mask=None)


class CrowdTracker:
    """Everyone in a video, frame by frame; one per video (it keeps tracks).

    ``CrowdTracker(estimator_for, settings, image_size=(w, h))`` then
    ``detect(rgb, timestamp_ms)`` for each frame in order, as with
    ``VideoPoseEstimator``; ``close()`` (or a ``with`` block) ends it.
    """

    def __init__(
        self,
        estimator_for: EstimatorFor,
        settings: PoseSettings,
        *,
        image_size: tuple[int, int],
        crowd: CrowdSettings | None = None,
        tracking: TrackingSettings = TrackingSettings(),
        lanes: int = 1,
    ) -> None:
        width, height = image_size
        if width < 1 or height < 1:
            raise SettingsError(f"image_size must be positive, got {image_size}")
        self.settings = settings
        self.image_size = (int(width), int(height))
        self.tracking = tracking
        self._estimator_for = estimator_for
        self._search = CrowdSearch(estimator_for, settings, crowd or VIDEO_SEARCH, lanes=lanes)
        self.lanes = lanes
        self._calls_lock = threading.Lock()
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._last_timestamp_ms = -1
        self._frames_since_search: int | None = None  # None: no search yet
        self._last_search_ms = 0
        self._frame_ms = 0.0  # the last interval between frames
        self._lost_since_search = False
        self._closed = False
        self._previous_grey: np.ndarray | None = None  # the last frame, small and grey
        self.track_ids: tuple[int, ...] = ()  # the track of each pose the last detect returned
        self.follow_calls = 0  # landmarker calls made to follow people (tests, benchmarks)
        self.searches = 0  # full searches run

    @property
    def calls(self) -> int:
        """Landmarker calls made so far: following plus searching."""
        return self.follow_calls + self._search.calls

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> tuple[PoseResult, ...]:
        """Everyone in this frame, left to right (an empty tuple when nobody is found).
        Timestamps must not go back (equal ones are allowed, as VideoPoseEstimator nudges them)."""
        if self._closed:
            raise RuntimeError("this CrowdTracker is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise SettingsError(f"expected an (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}")
        if (rgb.shape[1], rgb.shape[0]) != self.image_size:
            raise SettingsError(
                f"frame is {rgb.shape[1]}x{rgb.shape[0]}, the tracker was made for "
                f"{self.image_size[0]}x{self.image_size[1]}"
            )
        if timestamp_ms < self._last_timestamp_ms:
            raise SettingsError(
                f"timestamp {timestamp_ms} ms is before the previous frame's {self._last_timestamp_ms} ms"
            )
        if self._last_timestamp_ms >= 0 and timestamp_ms > self._last_timestamp_ms:
            self._frame_ms = float(timestamp_ms - self._last_timestamp_ms)
        self._last_timestamp_ms = int(timestamp_ms)

        shift = self._camera_shift(rgb)
        for track in self._tracks:
            if not track.confirmed:
                track.background_px = track.background_px + shift
        self._follow(rgb)
        self._end_probation()
        if self._search_due():
            self._add_newcomers(rgb)
        else:
            assert self._frames_since_search is not None
            self._frames_since_search += 1

        shown = [t for t in self._tracks if self._reported(t)][: self.settings.max_poses]
        ordered = left_to_right([t.pose for t in shown])
        by_pose = {id(t.pose): t.id for t in shown}
        self.track_ids = tuple(by_pose[id(p)] for p in ordered)
        return ordered

    def _reported(self, track: _Track) -> bool:
        """Whether this frame's pose of ``track`` is reported (see TrackingSettings)."""
        if not track.confirmed or track.missed:
            return False
        return not track.from_tile or track.followed >= self.tracking.tile_finds_follows_first

    # --- following ------------------------------------------------------------------------

    def _follow(self, rgb: np.ndarray) -> None:
        kept: list[_Track] = []
        # Each track is followed on its own crop, so they can be followed at once; the
        # results come back in creation order: deterministic.
        every_followed = run_on_lanes(self.lanes, lambda track, lane: self._follow_one(rgb, track, lane), self._tracks)
        for followed in every_followed:
            if not followed.confirmed:
                if not followed.missed:  # on probation: one miss and it is gone
                    kept.append(followed)
                continue
            if followed.missed == 1:
                self._lost_since_search = True
            if followed.missed <= self.tracking.max_missed:
                kept.append(followed)
        # Two tracks on one person (one walked in front of the other): keep the one seen in
        # this frame, then a confirmed one, then the one whose pose is most like its
        # prediction, then the older.
        kept.sort(key=lambda t: (t.missed > 0, not t.confirmed, -t.similarity, t.id))
        unique: list[_Track] = []
        for track in kept:
            if all(pose_similarity(track.pose, u.pose) < self._search.crowd.merge_similarity for u in unique):
                unique.append(track)
            elif track.missed == 0 and track.confirmed:
                self._lost_since_search = True
        self._tracks = sorted(unique, key=lambda t: t.id)

    def _follow_one(self, rgb: np.ndarray, track: _Track, lane: int = 0) -> _Track:
        """The track in this frame: followed, or missed once more (its pose then is where
        it was expected, and is not reported)."""
        cfg = self.tracking
        step = track.velocity
        limit = cfg.max_step_torsos * torso_size_px(track.pose)
        if (norm := float(np.linalg.norm(step))) > limit:
            step = step * (limit / norm)
        predicted = _moved(track.pose, step)
        # The framing that worked last time first: a passer-by keeps being found in the
        # seen-box crop, a half-body person in the upper-body one.
        order = [track.crop, *(i for i in range(len(cfg.crops)) if i != track.crop)]
        for index in order:
            found = self._find_in_crop(rgb, predicted, *cfg.crops[index], lane=lane)
            if found is not None:
                similarity, pose = found
                # A missed track's pose is its expected one: the step is from its last seen pose.
                moved = _centre(_upper_box_px(pose)) - _centre(_upper_box_px(track.seen))
                moved /= 1 + track.missed
                velocity = cfg.velocity_weight * moved + (1.0 - cfg.velocity_weight) * track.velocity
                return replace(
                    track,
                    pose=pose,
                    velocity=velocity,
                    seen=pose,
                    similarity=similarity,
                    missed=0,
                    followed=track.followed + 1,
                    crop=index,
                )
        return replace(track, pose=predicted, similarity=0.0, missed=track.missed + 1)

    def _find_in_crop(
        self, rgb: np.ndarray, predicted: PoseResult, box: str, scale: float, *, lane: int = 0
    ) -> tuple[float, PoseResult] | None:
        """The pose most like ``predicted`` on a square crop ``scale`` times the size of its
        ``box`` (see TrackingSettings.crops), with its similarity; None when there is none
        that passes."""
        height, width = rgb.shape[:2]
        cfg = self.tracking
        x0, y0, x1, y1 = visible_box_px(predicted) if box == "seen" else _upper_box_px(predicted)
        half = scale * max(x1 - x0, y1 - y0, 8.0) / 2
        window = square_window((x0 + x1) / 2, (y0 + y1) / 2, half, (width, height))
        if window[2] - window[0] < 8 or window[3] - window[1] < 8:  # walked out of the frame
            return None
        crop = resized_to(rgb[window[1] : window[3], window[0] : window[2]], cfg.crop_side_px)
        with self._calls_lock:  # people are followed from several threads
            self.follow_calls += 1
        settings = replace(self.settings, max_poses=cfg.crop_max_poses)
        if cfg.follow_detection_confidence is not None:
            settings = replace(settings, min_detection_confidence=cfg.follow_detection_confidence)
        found = self._estimator_for(settings, lane).detect(crop)
        poses = [to_image(p, window, (width, height)) for p in found]
        if not poses:
            return None
        # The first of equally similar poses: the landmarker's output is left to right.
        similarity, pose = max(((pose_similarity(p, predicted), p) for p in poses), key=lambda sp: sp[0])
        if (
            similarity < cfg.follow_similarity
            or support_score(pose) < cfg.min_score
            or not plausible(pose, self._search.crowd.limb_ratio_range)
        ):
            return None
        return similarity, pose

    def _camera_shift(self, rgb: np.ndarray) -> np.ndarray:
        """(2,) how far the picture moved since the last frame, in pixels (x, y); zero for
        the first frame and when nobody is on probation (nothing needs it then)."""
        if self.tracking.probation_move_torsos <= 0:  # no probation: never needed
            return np.zeros(2)
        grey, factor = shrunk_grey(rgb)
        previous, self._previous_grey = self._previous_grey, grey
        if previous is None or previous.shape != grey.shape or all(t.confirmed for t in self._tracks):
            return np.zeros(2)
        return picture_shift(previous, grey) / factor

    def _end_probation(self) -> None:
        """Make a person of each track on probation that walked far enough as itself;
        drop those whose time is up."""
        cfg = self.tracking
        kept: list[_Track] = []
        for track in self._tracks:
            if not track.confirmed:
                if (
                    cfg.probation_move_torsos > 0
                    and track.followed >= cfg.probation_frames
                    and self._walked(track)
                    and self._room_for_a_person()
                ):
                    track.confirmed = True
                elif self._last_timestamp_ms - track.born_ms > 1000.0 * cfg.probation_s:
                    continue
            kept.append(track)
        self._tracks = kept

    def _room_for_a_person(self) -> bool:
        """Whether fewer than ``settings.max_poses`` tracks are confirmed people."""
        return sum(t.confirmed for t in self._tracks) < self.settings.max_poses

    def _walked(self, track: _Track) -> bool:
        """Whether a track on probation moved at least ``probation_move_torsos`` against
        the background as the same body: its torso the same size (within a third) and its
        pose like the first one moved by as much. A pose that shrinks or folds up moves
        its centre too (measured: still people in a panned clip, their poses collapsing
        to half the torso size after five frames)."""
        assert track.origin is not None
        torso, first_torso = torso_size_px(track.pose), torso_size_px(track.origin)
        if not 0.75 <= torso / first_torso <= 1.33:
            return False
        moved = torso_centre_px(track.pose) - torso_centre_px(track.origin)
        if np.linalg.norm(moved - track.background_px) < self.tracking.probation_move_torsos * first_torso:
            return False
        return pose_similarity(track.pose, _moved(track.origin, moved)) >= _SAME_BODY_SIMILARITY

    # --- searching ------------------------------------------------------------------------

    def _search_due(self) -> bool:
        since = self._frames_since_search
        if since is None:
            return True
        cfg = self.tracking
        # Half a frame early (rounded timestamps): at 10 fps, every 5th frame.
        due_ms = 1000.0 * cfg.redetect_every_s - 0.5 * self._frame_ms
        return self._last_timestamp_ms - self._last_search_ms >= due_ms or (
            self._lost_since_search and since + 1 >= cfg.redetect_after_loss
        )

    def _add_newcomers(self, rgb: np.ndarray) -> None:
        """Search the whole frame: a person who is a missed track's expected pose revives
        that track; one who is none of the tracks' is a new track."""
        self.searches += 1
        self._frames_since_search = 0
        self._last_search_ms = self._last_timestamp_ms
        self._lost_since_search = False
        result = self._search.search(rgb)
        threshold = self._search.crowd.merge_similarity
        for confirmed, people in ((True, result.people), (False, result.unconfirmed)):
            if not confirmed and self.tracking.probation_move_torsos <= 0:
                break
            for person in sorted(people, key=lambda p: -p.score):  # stable: ties stay left to right
                similarity, best = max(
                    ((pose_similarity(person.pose, t.pose), t) for t in self._tracks),
                    key=lambda st: st[0],
                    default=(0.0, None),
                )
                if best is not None and similarity >= threshold:
                    if best.missed:  # found again where it was expected
                        best.pose = best.seen = person.pose
                        best.missed, best.similarity = 0, similarity
                    if confirmed and not best.confirmed:  # on probation: confirmed now
                        best.confirmed = self._room_for_a_person()
                    continue
                # A pose mostly inside a followed person's box is that person seen worse (half a
                # body, measured when two people cross), or someone hidden behind them: not a newcomer.
                followed = [visible_box_px(t.pose) for t in self._tracks if not t.missed]
                if covered_fraction(visible_box_px(person.pose), followed) > self.tracking.max_inside_tracked:
                    continue
                if sum(1 for t in self._tracks if not t.missed and t.confirmed == confirmed) >= self.settings.max_poses:
                    break
                self._tracks.append(
                    _Track(
                        self._next_id,
                        person.pose,
                        np.zeros(2),
                        person.pose,
                        confirmed=confirmed,
                        born_ms=self._last_timestamp_ms,
                        origin=person.pose,
                        from_tile=person.source != "whole",
                    )
                )
                self._next_id += 1

    # --- life cycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Forget every track. The estimators belong to ``estimator_for``'s owner and stay open."""
        self._tracks = []
        self._closed = True

    def __enter__(self) -> CrowdTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
