"""Comparing a pose, or a movement, with a reference (a teacher, a model rep).

Photos (:func:`compare_poses`): both poses' world landmarks are torso-normalised (hip
centre at the origin, shoulder centre to hip centre = 1), then the other pose is aligned
to the reference by Procrustes analysis (:func:`procrustes`): the rotation and scale that
bring its body landmarks closest to the reference's, with no reflection (a mirror image
is a different pose: a raised left arm is not a raised right arm). What is left after
alignment is the difference in pose, whatever the camera's angle and distance.

**Score** (:data:`SCORE_DEFINITION`): ``100 * max(0, 1 - d / 0.5)``, where ``d`` is the
root-mean-square distance between matching body landmarks after alignment, in torso
lengths. 100 = the same pose; 90 = landmarks 0.05 torso lengths (about 2.5 cm) apart on
average; 0 = half a torso or more.

Videos (:func:`compare_series`): the two clips are aligned in time with dynamic time
warping (dtaidistance, with a Sakoe-Chiba window so that the warp stays near the
diagonal) on their joint angles, which do not depend on where the person stands; each
matched pair of frames is then scored as two photos are, and the scores are averaged
per segment of the reference and per repetition of the reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pose_core.angles import ANGLE_SPECS, SPEC_BY_NAME, angle_arrays, pose_angles
from pose_core.errors import PoseLabError
from pose_core.repetitions import Repetitions
from pose_core.schema import INDEX
from pose_core.series import PoseSeries
from pose_core.smoothing import Smoothing
from pose_core.types import PoseResult, PoseSettings, to_pixels

MIN_CONFIDENCE = 0.5
BODY_POINTS: tuple[str, ...] = (
    "nose",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
BODY_INDEX = np.array([INDEX[n] for n in BODY_POINTS])
SCORE_ZERO_TORSO = 0.5  # d at which the score reaches 0
SCORE_DEFINITION = (
    "100 × max(0, 1 − d / 0.5), where d is the root-mean-square distance between matching body landmarks "
    "(nose, shoulders, elbows, wrists, hips, knees, ankles; those seen in both) after aligning the other pose "
    "to the reference by rotation and scale (no mirroring), in torso lengths. 100 = same pose, 90 ≈ 2.5 cm apart."
)
MIN_POINTS = 4  # fewer matching landmarks than this cannot fix a rotation and a scale


class ComparisonError(PoseLabError, ValueError):
    """Two poses or clips cannot be compared (too little seen in both); says why."""


def pose_score(rmsd_torso: np.ndarray | float) -> np.ndarray | float:
    """The 0-100 score of :data:`SCORE_DEFINITION` for a distance in torso lengths."""
    return 100.0 * np.maximum(0.0, 1.0 - np.asarray(rmsd_torso) / SCORE_ZERO_TORSO)


# ---------------------------------------------------------------- alignment


@dataclass(frozen=True, eq=False)
class Alignment:
    """``reference ≈ scale * other @ rotation.T + translation`` (points as rows)."""

    rotation: np.ndarray  # (D, D), det +1
    scale: float
    translation: np.ndarray  # (D,)
    rmsd: float  # root-mean-square distance left, in the reference's units
    points: tuple[str, ...]  # the landmarks used

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(points, np.float64) @ self.rotation.T + self.translation


def procrustes_batch(reference: np.ndarray, other: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted Procrustes for B pairs at once: ``reference`` and ``other`` (B, N, D),
    ``weights`` (B, N) (0 leaves a point out). Returns rotation (B, D, D) with det +1,
    scale (B,), translation (B, D) and the weighted RMS distance left (B,)."""
    ref = np.nan_to_num(np.asarray(reference, np.float64))
    oth = np.nan_to_num(np.asarray(other, np.float64))
    w = np.asarray(weights, np.float64)
    total = np.maximum(w.sum(axis=1), 1e-12)[:, None]  # (B, 1)
    mu_r = (w[..., None] * ref).sum(axis=1) / total
    mu_o = (w[..., None] * oth).sum(axis=1) / total
    r, o = ref - mu_r[:, None], oth - mu_o[:, None]
    cov = np.einsum("bn,bni,bnj->bij", w, r, o) / total[..., None]
    u, s, vt = np.linalg.svd(cov)
    d = np.ones_like(s)
    d[:, -1] = np.sign(np.linalg.det(u @ vt))  # -1 would be a reflection: turn it into the nearest rotation
    d[d == 0] = 1.0
    rotation = u @ (d[..., None] * vt)
    var_o = (w * (o**2).sum(axis=2)).sum(axis=1) / total[:, 0]
    scale = (s * d).sum(axis=1) / np.maximum(var_o, 1e-12)
    translation = mu_r - scale[:, None] * np.einsum("bij,bj->bi", rotation, mu_o)
    aligned = scale[:, None, None] * np.einsum("bij,bnj->bni", rotation, oth) + translation[:, None]
    rmsd = np.sqrt((w * ((aligned - ref) ** 2).sum(axis=2)).sum(axis=1) / total[:, 0])
    return rotation, scale, translation, rmsd


def procrustes(reference: np.ndarray, other: np.ndarray, weights: np.ndarray | None = None) -> Alignment:
    """The rotation (no reflection), scale and translation taking ``other`` (N, D) onto
    ``reference`` (N, D) with the least (weighted) squared distance (Umeyama, 1991)."""
    weights = np.ones(len(reference)) if weights is None else np.asarray(weights, np.float64)
    rotation, scale, translation, rmsd = procrustes_batch(reference[None], other[None], weights[None])
    return Alignment(rotation[0], float(scale[0]), translation[0], float(rmsd[0]), ())


def torso_normalised(points: np.ndarray) -> np.ndarray:
    """(..., 33, D) landmarks with the hip centre at 0 and the torso (hip centre to
    shoulder centre) 1 long; NaN where the torso is not there."""
    pts = np.asarray(points, np.float64)
    hips = pts[..., [INDEX["left_hip"], INDEX["right_hip"]], :].mean(axis=-2, keepdims=True)
    shoulders = pts[..., [INDEX["left_shoulder"], INDEX["right_shoulder"]], :].mean(axis=-2, keepdims=True)
    torso = np.linalg.norm(shoulders - hips, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(torso > 1e-9, (pts - hips) / torso, np.nan)


def _weights(ref_vis: np.ndarray, other_vis: np.ndarray, ref_pts: np.ndarray, other_pts: np.ndarray) -> np.ndarray:
    """(..., len(BODY_POINTS)) 1 where a body landmark is seen in both poses, else 0."""
    seen = (np.nan_to_num(ref_vis, nan=0.0) >= MIN_CONFIDENCE) & (np.nan_to_num(other_vis, nan=0.0) >= MIN_CONFIDENCE)
    finite = np.isfinite(ref_pts).all(axis=-1) & np.isfinite(other_pts).all(axis=-1)
    return (seen & finite).astype(np.float64)


# ---------------------------------------------------------------- photos


@dataclass(frozen=True)
class JointDifference:
    name: str
    reference_degrees: float
    other_degrees: float

    @property
    def difference_degrees(self) -> float:
        return self.other_degrees - self.reference_degrees

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "reference_degrees": round(self.reference_degrees, 1),
            "other_degrees": round(self.other_degrees, 1),
            "difference_degrees": round(self.difference_degrees, 1) + 0.0,  # + 0.0: never "-0.0"
        }


@dataclass(frozen=True, eq=False)
class PoseComparison:
    score: float  # 0-100, SCORE_DEFINITION
    alignment: Alignment  # 3D, torso-normalised world landmarks: other -> reference
    joints: tuple[JointDifference, ...]  # largest |difference| first; joints seen in both
    other_world_aligned: np.ndarray  # (33, 3) the other pose in the reference's torso-normalised frame
    reference_world: np.ndarray  # (33, 3) the reference, torso-normalised
    other_px_on_reference: np.ndarray  # (33, 2) the other pose aligned in 2D onto the reference's picture

    def as_dict(self) -> dict[str, object]:
        a = self.alignment
        return {
            "score": round(self.score, 1),
            "score_definition": SCORE_DEFINITION,
            "joints": [j.as_dict() for j in self.joints],
            "alignment": {
                "method": "procrustes",
                "space": "world landmarks, torso-normalised (hip centre 0, torso length 1)",
                "landmarks": list(a.points),
                "rotation": [[round(float(v), 5) for v in row] for row in a.rotation],
                "rotation_degrees": round(rotation_degrees(a.rotation), 1),
                "scale": round(a.scale, 4),
                "rmsd_torso": round(a.rmsd, 4),
            },
        }


def rotation_degrees(rotation: np.ndarray) -> float:
    """How far a rotation turns, in degrees (0..180)."""
    r = np.asarray(rotation)
    if r.shape == (2, 2):
        return abs(math.degrees(math.atan2(r[1, 0], r[0, 0])))
    return math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(r) - 1) / 2))))


def joint_differences(reference: PoseResult, other: PoseResult) -> tuple[JointDifference, ...]:
    """3D angle differences for every angle seen confidently in both, largest first."""
    diffs = [
        JointDifference(r.name, r.degrees_3d, o.degrees_3d)
        for r, o in zip(pose_angles(reference), pose_angles(other), strict=True)
        if r.confidence >= MIN_CONFIDENCE and o.confidence >= MIN_CONFIDENCE
        if math.isfinite(r.degrees_3d) and math.isfinite(o.degrees_3d)
    ]
    return tuple(sorted(diffs, key=lambda j: -abs(j.difference_degrees)))


def compare_poses(reference: PoseResult, other: PoseResult) -> PoseComparison:
    """Align ``other`` to ``reference`` and score it (:data:`SCORE_DEFINITION`). Raises
    ComparisonError when fewer than MIN_POINTS body landmarks are seen in both."""
    ref_w = torso_normalised(reference.world_landmarks)
    oth_w = torso_normalised(other.world_landmarks)
    weights = _weights(
        reference.visibility[BODY_INDEX], other.visibility[BODY_INDEX], ref_w[BODY_INDEX], oth_w[BODY_INDEX]
    )
    if weights.sum() < MIN_POINTS:
        raise ComparisonError(
            f"only {int(weights.sum())} body landmarks are seen clearly in both pictures; "
            f"at least {MIN_POINTS} are needed (shoulders and hips, say)"
        )
    used = tuple(name for name, w in zip(BODY_POINTS, weights, strict=True) if w)
    aligned3d = procrustes(ref_w[BODY_INDEX], oth_w[BODY_INDEX], weights)
    alignment = Alignment(aligned3d.rotation, aligned3d.scale, aligned3d.translation, aligned3d.rmsd, used)
    # The same in 2D, in the reference picture's pixels, for drawing both in one picture.
    ref_px, oth_px = reference.landmarks_px.astype(np.float64), other.landmarks_px.astype(np.float64)
    flat = procrustes(ref_px[BODY_INDEX], oth_px[BODY_INDEX], weights)
    return PoseComparison(
        score=float(pose_score(alignment.rmsd)),
        alignment=alignment,
        joints=joint_differences(reference, other),
        other_world_aligned=alignment.apply(np.nan_to_num(oth_w)),
        reference_world=ref_w,
        other_px_on_reference=flat.apply(oth_px),
    )


def aligned_pose(comparison: PoseComparison, reference: PoseResult, other: PoseResult) -> PoseResult:
    """``other`` moved onto the reference's picture (2D) and frame (3D), for drawing."""
    width, height = reference.image_size
    xy = comparison.other_px_on_reference / np.array([width, height], np.float64)
    landmarks = np.concatenate([xy, np.asarray(other.landmarks[:, 2:3], np.float64)], axis=1)
    return PoseResult(
        landmarks=landmarks,
        visibility=other.visibility,
        presence=other.presence,
        world_landmarks=comparison.other_world_aligned,
        image_size=reference.image_size,
    )


# ---------------------------------------------------------------- videos


@dataclass(frozen=True)
class SpanScore:
    label: str  # "0.0-2.0 s", "rep 3"
    start_s: float  # reference time
    end_s: float
    score: float  # mean of the matched frames' scores (NaN: none scored)

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "score": None if math.isnan(self.score) else round(self.score, 1),
        }


@dataclass(frozen=True, eq=False)
class SeriesComparison:
    score: float  # mean over matched frame pairs that could be scored
    path: np.ndarray  # (L, 2) int: (reference frame, other frame) along the warp, both rising
    pair_scores: np.ndarray  # (L,) the pose score of each matched pair (NaN: too little seen)
    reference_time_s: np.ndarray  # (T_ref,)
    other_time_s: np.ndarray  # (T_other,)
    window_frames: int
    segments: tuple[SpanScore, ...]
    repetitions: tuple[SpanScore, ...]
    joints: tuple[JointDifference, ...]  # mean angles over matched pairs, largest |difference| first

    def other_frame_for(self, reference_frame: int) -> int:
        """The other clip's frame matched to a reference frame (the first, if several)."""
        i = int(np.searchsorted(self.path[:, 0], reference_frame))
        return int(self.path[min(i, len(self.path) - 1), 1])

    def as_dict(self) -> dict[str, object]:
        return {
            "score": None if math.isnan(self.score) else round(self.score, 1),
            "score_definition": "mean over the matched frame pairs of: " + SCORE_DEFINITION,
            "joints": [j.as_dict() for j in self.joints],
            "alignment": {
                "method": "dynamic time warping (dtaidistance) on joint angles",
                "window_frames": self.window_frames,
                "pairs": [[int(a), int(b)] for a, b in self.path],
            },
            "segments": [s.as_dict() for s in self.segments],
            "repetitions": [r.as_dict() for r in self.repetitions],
        }


def _angle_features(series: PoseSeries, person: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, K) joint angles (3D, degrees / 180) of one person, gaps interpolated, and the
    (T, K) confident mask."""
    p = person - 1
    px = to_pixels(series.landmarks[:, p], series.image_size)
    deg2d, deg3d, conf = angle_arrays(px, series.world_landmarks[:, p], series.visibility[:, p])
    del deg2d
    confident = np.nan_to_num(conf, nan=0.0) >= MIN_CONFIDENCE
    values = np.where(confident, deg3d, np.nan) / 180.0
    t = np.arange(len(values))
    for k in range(values.shape[1]):
        ok = np.isfinite(values[:, k])
        values[:, k] = np.interp(t, t[ok], values[ok, k]) if ok.any() else 0.5
    return values, confident


def compare_series(
    reference: PoseSeries,
    other: PoseSeries,
    *,
    person: int = 1,
    other_person: int | None = None,
    window_s: float = 3.0,
    segment_s: float = 2.0,
    reference_repetitions: Repetitions | None = None,
) -> SeriesComparison:
    """Align ``other`` to ``reference`` in time (DTW on joint angles, Sakoe-Chiba window
    of ``window_s`` around the diagonals) and score each matched pair of frames.
    Segments of ``segment_s`` of the reference, and its repetitions if given, get the
    mean score of their pairs. Raises ComparisonError if a clip has no one in it."""
    from dtaidistance import dtw, dtw_ndim  # noqa: PLC0415 - only comparisons need it

    other_person = other_person or person
    for name, s, p in (("reference", reference, person), ("other", other, other_person)):
        if p > s.people or not s.present[:, p - 1].any():
            raise ComparisonError(f"person {p} is not in the {name} clip")
    ref_feat, _ = _angle_features(reference, person)
    oth_feat, _ = _angle_features(other, other_person)
    fps = (
        (len(reference) - 1) / max(float(reference.time_s[-1] - reference.time_s[0]), 1e-9)
        if len(reference) > 1
        else 30
    )
    window = max(2, round(window_s * fps))
    path = np.array(
        dtw_ndim.warping_path(
            ref_feat.astype(np.double), oth_feat.astype(np.double), window=window, use_c=dtw.try_import_c(verbose=False)
        ),
        int,
    ).reshape(-1, 2)
    p_ref, p_oth = person - 1, other_person - 1
    ref_w = torso_normalised(reference.world_landmarks[path[:, 0], p_ref])[:, BODY_INDEX]
    oth_w = torso_normalised(other.world_landmarks[path[:, 1], p_oth])[:, BODY_INDEX]
    weights = _weights(
        reference.visibility[path[:, 0], p_ref][:, BODY_INDEX],
        other.visibility[path[:, 1], p_oth][:, BODY_INDEX],
        ref_w,
        oth_w,
    )
    *_, rmsd = procrustes_batch(ref_w, oth_w, weights)
    pair_scores = np.where(weights.sum(axis=1) >= MIN_POINTS, pose_score(rmsd), np.nan)
    ref_t = np.asarray(reference.time_s, np.float64)

    def span(label: str, start_s: float, end_s: float, last: bool = True) -> SpanScore:
        at = ref_t[path[:, 0]]
        inside = (at >= start_s) & ((at <= end_s) if last else (at < end_s)) & np.isfinite(pair_scores)
        return SpanScore(label, start_s, end_s, float(pair_scores[inside].mean()) if inside.any() else math.nan)

    starts = np.arange(ref_t[0], ref_t[-1], segment_s) if ref_t[-1] > ref_t[0] else np.array([ref_t[0]])
    segments = tuple(
        span(
            f"{a:.1f}-{min(a + segment_s, ref_t[-1]):.1f} s",
            a,
            min(a + segment_s, ref_t[-1]),
            last=n == len(starts) - 1,
        )
        for n, a in enumerate(starts)
    )
    reps = tuple(
        span(f"rep {r.number}", r.start_s, r.end_s)
        for r in (reference_repetitions.items if reference_repetitions else ())
    )
    # Mean angles over the matched pairs, per joint, where both were seen.
    ref_deg, ref_ok = _angle_features(reference, person)
    oth_deg, oth_ok = _angle_features(other, other_person)
    both = ref_ok[path[:, 0]] & oth_ok[path[:, 1]]
    joints = []
    for k, spec in enumerate(ANGLE_SPECS):
        if both[:, k].any():
            joints.append(
                JointDifference(
                    spec.name,
                    float(ref_deg[path[both[:, k], 0], k].mean() * 180),
                    float(oth_deg[path[both[:, k], 1], k].mean() * 180),
                )
            )
    finite = np.isfinite(pair_scores)
    return SeriesComparison(
        score=float(pair_scores[finite].mean()) if finite.any() else math.nan,
        path=path,
        pair_scores=pair_scores,
        reference_time_s=ref_t,
        other_time_s=np.asarray(other.time_s, np.float64),
        window_frames=window,
        segments=segments,
        repetitions=reps,
        joints=tuple(sorted(joints, key=lambda j: -abs(j.difference_degrees))),
    )


def side_by_side(left: np.ndarray, right: np.ndarray, height: int | None = None, gap: int = 8) -> np.ndarray:
    """Two RGB pictures next to each other at the same height (the left one's, or
    ``height``), on a dark background; each keeps its aspect ratio."""
    import cv2  # noqa: PLC0415

    h = height or left.shape[0]
    scaled = [
        cv2.resize(im, (max(1, round(im.shape[1] * h / im.shape[0])), h), interpolation=cv2.INTER_AREA)
        for im in (left, right)
    ]
    canvas = np.full((h, scaled[0].shape[1] + gap + scaled[1].shape[1], 3), 24, np.uint8)
    canvas[:, : scaled[0].shape[1]] = scaled[0]
    canvas[:, scaled[0].shape[1] + gap :] = scaled[1]
    return canvas


def angle_label(name: str) -> str:
    return SPEC_BY_NAME[name].label


# ---------------------------------------------------------------- files (the command line)


def joints_table(joints: tuple[JointDifference, ...]) -> pd.DataFrame:
    """One row per joint: name, reference_degrees, other_degrees, difference_degrees."""
    columns = ["name", "reference_degrees", "other_degrees", "difference_degrees"]
    return pd.DataFrame([j.as_dict() for j in joints], columns=columns)


def _person(poses: tuple[PoseResult, ...], person: int, source: str) -> PoseResult:
    if not poses:
        raise ComparisonError(f"nobody was found in {source}")
    if person > len(poses):
        raise ComparisonError(f"{source} shows {len(poses)} person(s); there is no person {person}")
    return poses[person - 1]


def compare_files(
    reference: str,
    other: str,
    settings: PoseSettings,
    *,
    person: int = 1,
    window_s: float = 3.0,
    smoothing: Smoothing | None = None,
) -> tuple[dict[str, object], pd.DataFrame]:
    """Two photos or two videos, analysed and compared: the JSON document (without the
    manifest) and the joints table. Raises ImageLoadError, VideoLoadError, or
    ComparisonError (mixed kinds, nobody found, too little seen)."""
    from pose_core.images import SUPPORTED_EXTENSIONS  # noqa: PLC0415
    from pose_core.video_io import VIDEO_EXTENSIONS  # noqa: PLC0415

    suffixes = {Path(reference).suffix.lower(), Path(other).suffix.lower()}
    if suffixes <= set(SUPPORTED_EXTENSIONS):
        from pose_core.analysis import EstimatorPool, analyze_image  # noqa: PLC0415

        with EstimatorPool() as estimators:
            poses = [analyze_image(path, settings, estimators)[1].poses for path in (reference, other)]
        result = compare_poses(_person(poses[0], person, reference), _person(poses[1], person, other))
        doc: dict[str, object] = {"kind": "photos", "reference": reference, "other": other, **result.as_dict()}
        return doc, joints_table(result.joints)
    if suffixes <= set(VIDEO_EXTENSIONS):
        from pose_core.motion import clean_angles  # noqa: PLC0415
        from pose_core.repetitions import count_repetitions  # noqa: PLC0415
        from pose_core.video import VideoJob  # noqa: PLC0415

        smoothing = smoothing or Smoothing()
        series = [VideoJob(settings).render(path, smoothing, video=False).series for path in (reference, other)]
        # The series are smoothed already: the angles are only gated and de-glitched.
        reps = count_repetitions(clean_angles(series[0], Smoothing(method="none")), person)
        videos = compare_series(series[0], series[1], person=person, window_s=window_s, reference_repetitions=reps)
        doc = {"kind": "videos", "reference": reference, "other": other, **videos.as_dict()}
        return doc, joints_table(videos.joints)
    raise ComparisonError("give two photos or two videos (by their file extensions)")


def side_by_side_video(pairs: Iterable[tuple[np.ndarray, np.ndarray]], fps: float) -> bytes:
    """An H.264 MP4 of (left, right) RGB frame pairs shown :func:`side_by_side`, e.g. each
    reference frame beside the other clip's frame matched to it. Frames are composed and
    encoded one at a time (a minute of pairs never sits in memory)."""
    import io  # noqa: PLC0415

    from pose_core.video_io import Mp4Writer  # noqa: PLC0415 - PyAV only for videos

    buffer = io.BytesIO()
    writer: Mp4Writer | None = None
    height: int | None = None
    try:
        for left, right in pairs:
            frame = side_by_side(left, right, height)
            if writer is None:
                height = frame.shape[0]
                writer = Mp4Writer(buffer, (frame.shape[1], frame.shape[0]), fps, lambda rgb, _poses: rgb)
            writer.write(frame, ())
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ComparisonError("no frames to show")
    return buffer.getvalue()
