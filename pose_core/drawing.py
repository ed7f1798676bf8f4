"""Draw skeleton overlays on RGB images (OpenCV, anti-aliased)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pose_core.angles import HEADLINE_ANGLES, SPEC_BY_NAME, AngleKind, AngleReading
from pose_core.crowd import pose_bbox_px
from pose_core.schema import BONES, index_of
from pose_core.types import PoseResult

RGB = tuple[int, int, int]


# NOTE: an overlay is usually seen about this wide (a dashboard column, half a projected
# slide); lines, joints and labels are sized so that they stay readable at that width,
# whatever the photo's resolution.
SCREEN_PX = 640
MIN_SCREEN_LINE_PX = 3  # thinner bones vanish on a projector
MIN_SCREEN_TEXT_PX = 13  # angle labels and person numbers: readable from the back of a room
HIGHLIGHT = (255, 212, 0)  # selected landmarks, angle and person (plots.HIGHLIGHT_COLOR)
OUTLINE = (20, 20, 20)  # dark edge under bones, joints and labels: any colour reads on snow or a white wall


@dataclass(frozen=True)
class DrawStyle:
    joint_color: RGB = (230, 30, 30)  # red joints
    bone_color: RGB = (255, 255, 255)  # white bones
    mask_color: RGB = (40, 140, 255)
    line_thickness: int | None = None  # None: with the person's size, never under 3 px at SCREEN_PX
    joint_radius: int | None = None  # None: with the line
    visibility_threshold: float = 0.5  # below it a joint/bone is drawn faded, not hidden
    faded_opacity: float = 0.3
    mask_opacity: float = 0.4
    show_mask: bool = False
    show_angles: bool = False
    angle_names: tuple[str, ...] = HEADLINE_ANGLES  # which arcs show_angles draws
    number_people: bool = True  # with two or more people, draw each one's number beside them
    # Linked views: landmarks (indices) ringed in HIGHLIGHT on every person, or on
    # highlight_person only (1-based, as numbered); that person also gets a box; an angle
    # name draws that angle's arc in HIGHLIGHT even if it is not among angle_names.
    highlight_landmarks: tuple[int, ...] = ()
    highlight_person: int | None = None
    highlight_angle: str | None = None

    def sizes(self, person_height_px: float, image_size: tuple[int, int]) -> tuple[int, int]:
        """(line thickness, joint radius) in image pixels for a person this tall."""
        per_screen_px = max(image_size) / SCREEN_PX  # image pixels behind one screen pixel
        floor = max(1, round(MIN_SCREEN_LINE_PX * per_screen_px))
        # A bone about 1/80 of the person's height looks like a limb, not a hair or a bar.
        thickness = self.line_thickness or max(floor, round(person_height_px / 80))
        radius = self.joint_radius or max(thickness + 1, round(thickness * 1.6))
        return thickness, radius


def text_scale(image_size: tuple[int, int], person_height_px: float = 0.0) -> float:
    """An OpenCV font scale for labels: at least MIN_SCREEN_TEXT_PX tall at SCREEN_PX,
    larger with a large person (FONT_HERSHEY_SIMPLEX is ~22 px tall at scale 1)."""
    per_screen_px = max(image_size) / SCREEN_PX
    return max(MIN_SCREEN_TEXT_PX * per_screen_px / 22, person_height_px / 300)


def _pt(xy: np.ndarray) -> tuple[int, int] | None:
    if np.isnan(xy).any():
        return None
    return int(round(float(xy[0]))), int(round(float(xy[1])))


_BONE_ENDS = np.array(BONES, np.intp)  # (bones, 2) landmark indices


@dataclass
class _Parts:
    """Bones and joints to draw at one opacity, person by person (each with their own size)."""

    people: list[tuple[np.ndarray, np.ndarray, int, int]]  # (bones, joints, thickness, radius)
    # bones: (n, 2, 2) int32 end points in pixels; joints: (m, 2) int32 centres in pixels

    def add(self, bones: np.ndarray, joints: np.ndarray, thickness: int, radius: int) -> None:
        if len(bones) or len(joints):
            self.people.append((bones, joints, thickness, radius))

    def points(self) -> np.ndarray:
        """(N, 2) every bone end and joint centre."""
        return np.concatenate([np.concatenate([b.reshape(-1, 2), j]) for b, j, _, _ in self.people])

    def reach(self) -> int:
        """How far a part reaches out from its points: the largest joint radius or bone thickness."""
        return max([r for _, j, _, r in self.people if len(j)] + [t for b, _, t, _ in self.people if len(b)])


def _person_height(pose: PoseResult) -> float:
    x0, y0, x1, y1 = pose_bbox_px(pose)
    return max(x1 - x0, y1 - y0)


def draw_overlay(
    rgb: np.ndarray,
    poses: Sequence[PoseResult],
    style: DrawStyle = DrawStyle(),
    angles: Sequence[Sequence[AngleReading]] | None = None,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A copy of ``rgb`` (H, W, 3) uint8 with each pose drawn on it: bones with a dark
    outline, joints, and (``style.show_angles``, with ``angles`` one sequence per pose)
    angle arcs with labels that never overlap; people numbered when there are several.

    ``out``: an (H, W, 3) uint8 array to draw into instead of a new copy (it may be
    ``rgb`` itself, or a strided view such as a video frame's own memory); returned.
    """
    height, width = rgb.shape[:2]
    if out is None:
        canvas = rgb.copy()
    else:
        if out.shape != rgb.shape or out.dtype != np.uint8:
            raise ValueError(f"out must be {rgb.shape} uint8, got {out.shape} {out.dtype}")
        canvas = out
        if out is not rgb:
            np.copyto(canvas, rgb)
    for pose in poses:
        if style.show_mask and pose.segmentation_mask is not None:
            alpha = (pose.segmentation_mask.astype(np.float32) / 255.0 * style.mask_opacity)[:, :, None]
            canvas[...] = (canvas * (1 - alpha) + np.array(style.mask_color, np.float32) * alpha).astype(np.uint8)

    # Low-visibility parts first, on a layer blended once over just their bounding box
    # (blending the whole frame costs ~10 ms at 720p), then the visible parts on top.
    faded, solid = _Parts([]), _Parts([])
    for pose in poses:
        thickness, radius = style.sizes(_person_height(pose), (width, height))
        # NOTE: whole-pose array operations, not a numpy call per point or bone: this runs
        # on every frame of the live camera.
        xy = pose.landmarks_px
        known = ~np.isnan(xy).any(axis=1)
        points = np.rint(np.nan_to_num(xy)).astype(np.int32)
        visible = pose.visibility >= style.visibility_threshold  # NaN: not visible
        bone_known = known[_BONE_ENDS].all(axis=1)
        bone_visible = visible[_BONE_ENDS].all(axis=1)
        bones = points[_BONE_ENDS]  # (bones, 2, 2)
        solid.add(bones[bone_known & bone_visible], points[known & visible], thickness, radius)
        faded.add(bones[bone_known & ~bone_visible], points[known & ~visible], thickness, radius)
    if faded.people:
        points = faded.points()
        pad = faded.reach() + 4
        x0, y0 = np.maximum(points.min(axis=0) - pad, 0)
        x1, y1 = np.minimum(points.max(axis=0) + pad + 1, [width, height])
        if x1 > x0 and y1 > y0:
            region = canvas[y0:y1, x0:x1]
            layer = region.copy()
            _draw_parts(layer, faded, style, offset=(int(x0), int(y0)))
            # NOTE: the whole box is blended, not only the pixels the layer changed: where the
            # layer equals the region the blend is the region itself (the weights add up to
            # 1), and finding the changed pixels cost ~0.4 ms a frame.
            cv2.addWeighted(layer, style.faded_opacity, region, 1 - style.faded_opacity, 0, dst=region)
    _draw_parts(canvas, solid, style)

    _draw_highlights(canvas, poses, style)
    labels: list[tuple[int, int, int, int]] = []  # boxes already taken, so no two labels overlap
    if (style.show_angles or style.highlight_angle) and angles is not None:
        for number, (pose, readings) in enumerate(zip(poses, angles, strict=False), start=1):
            if style.highlight_person in (None, number) or style.show_angles:
                _draw_angle_arcs(canvas, pose, readings, style, labels, highlight_only=not style.show_angles)
    if style.number_people and len(poses) > 1:
        for number, pose in enumerate(poses, start=1):
            _draw_number(canvas, pose, number, labels)
    return canvas


def _draw_highlights(canvas: np.ndarray, poses: Sequence[PoseResult], style: DrawStyle) -> None:
    """Rings round the selected landmarks and a box round the selected person."""
    if not style.highlight_landmarks and style.highlight_person is None:
        return
    height, width = canvas.shape[:2]
    for number, pose in enumerate(poses, start=1):
        if style.highlight_person not in (None, number):
            continue
        thickness, radius = style.sizes(_person_height(pose), (width, height))
        if style.highlight_person == number:
            x0, y0, x1, y1 = (round(v) for v in pose_bbox_px(pose))
            pad = 2 * radius
            for color, weight in ((OUTLINE, thickness + 2), (HIGHLIGHT, thickness)):
                cv2.rectangle(canvas, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), color, weight, cv2.LINE_AA)
        xy = pose.landmarks_px
        for i in style.highlight_landmarks:
            if 0 <= i < len(xy) and (center := _pt(xy[i])) is not None:
                for color, weight in ((OUTLINE, thickness + 2), (HIGHLIGHT, thickness)):
                    cv2.circle(canvas, center, 2 * radius + thickness, color, weight, cv2.LINE_AA)


def _draw_number(canvas: np.ndarray, pose: PoseResult, number: int, taken: list[tuple[int, int, int, int]]) -> None:
    """The person's number (as in the tabs, tables and exports) in a dark box just above
    their head, sized with them and never smaller than a readable MIN_SCREEN_TEXT_PX."""
    x0, y0, x1, y1 = pose_bbox_px(pose)
    height, width = canvas.shape[:2]
    scale = text_scale((width, height), (y1 - y0) * 0.7)
    _label(canvas, str(number), ((x0 + x1) / 2, y0), scale, (255, 255, 255), taken, above=True)


def _label(
    canvas: np.ndarray,
    text: str,
    anchor: tuple[float, float],
    scale: float,
    color: RGB,
    taken: list[tuple[int, int, int, int]],
    *,
    above: bool = False,
    directions: Sequence[tuple[float, float]] = ((0.0, 0.0),),
) -> None:
    """``text`` in a dark box near ``anchor``: the first of ``directions`` (offsets in
    box sizes) whose box is inside the picture and free of ``taken`` boxes; otherwise
    the one overlapping least. The chosen box is added to ``taken``."""
    height, width = canvas.shape[:2]
    weight = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, weight)
    pad = max(2, th // 4)
    bw, bh = tw + 2 * pad, th + base + 2 * pad
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for dx, dy in directions:
        cx, cy = anchor[0] + dx * bw, anchor[1] + dy * bh - (bh / 2 + pad if above else 0)
        left = int(np.clip(cx - bw / 2, 0, max(0, width - bw)))
        top = int(np.clip(cy - bh / 2, 0, max(0, height - bh)))
        box = (left, top, left + bw, top + bh)
        overlap = sum(_overlap(box, other) for other in taken)
        if best is None or overlap < best[0]:
            best = (overlap, box)
        if overlap == 0:
            break
    assert best is not None
    left, top, right, bottom = best[1]
    taken.append(best[1])
    cv2.rectangle(canvas, (left, top), (right, bottom), OUTLINE, -1)
    origin = (left + pad, top + pad + th)
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, weight, cv2.LINE_AA)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _draw_parts(target: np.ndarray, parts: _Parts, style: DrawStyle, offset: tuple[int, int] = (0, 0)) -> None:
    # One polylines call per person and colour draws the bones one by one in order, each
    # a two-point open polyline with round ends: pixel for pixel what cv2.line draws.
    shift = np.array(offset, np.int32)
    for bones, _, thickness, _ in parts.people:  # outlines first, under every bone
        if len(bones):
            edge = max(1, thickness // 3)
            cv2.polylines(target, bones - shift, False, OUTLINE, thickness + 2 * edge, cv2.LINE_AA)
    for bones, _, thickness, _ in parts.people:
        if len(bones):
            cv2.polylines(target, bones - shift, False, style.bone_color, thickness, cv2.LINE_AA)
    for _, joints, thickness, radius in parts.people:
        edge = max(1, thickness // 2)
        for center in (joints - shift).tolist():
            cv2.circle(target, center, radius, style.joint_color, -1, cv2.LINE_AA)
            cv2.circle(target, center, radius, OUTLINE, edge, cv2.LINE_AA)


# Where an angle's label may go, in label-box sizes from the arc's outside: straight
# out along the angle's bisector first, then further out, then to either side.
_LABEL_SPOTS = ((0.0, 0.0), (0.6, 0.6), (-0.6, -0.6), (0.0, 1.2), (0.0, -1.2), (1.1, 0.0), (-1.1, 0.0))


def _draw_angle_arcs(
    canvas: np.ndarray,
    pose: PoseResult,
    readings: Sequence[AngleReading],
    style: DrawStyle,
    taken: list[tuple[int, int, int, int]],
    *,
    highlight_only: bool = False,
) -> None:
    height, width = canvas.shape[:2]
    xy = pose.landmarks_px
    person = _person_height(pose)
    thickness, _ = style.sizes(person, (width, height))
    arc_radius = max(12, round(person / 12))
    scale = text_scale((width, height), person * 0.5)
    for reading in readings:
        spec = SPEC_BY_NAME[reading.name]
        chosen = reading.name == style.highlight_angle
        shown = chosen or (not highlight_only and reading.name in style.angle_names)
        if not shown or spec.kind is not AngleKind.JOINT or spec.c is None or math.isnan(reading.degrees_2d):
            continue
        if not chosen and not reading.confidence >= style.visibility_threshold:
            continue  # no arc for a joint the model guesses (a knee outside a portrait)
        arc_color = HIGHLIGHT if chosen else (255, 220, 0)
        a, b, c = (xy[[index_of(n) for n in p]].mean(axis=0) for p in (spec.a, spec.b, spec.c))
        start = math.degrees(math.atan2(a[1] - b[1], a[0] - b[0]))
        end = math.degrees(math.atan2(c[1] - b[1], c[0] - b[0]))
        sweep = (end - start + 360) % 360
        if sweep > 180:  # draw the interior angle, the one the number describes
            start, sweep = end, 360 - sweep
        center = _pt(b)
        if center is None:
            continue
        for color, weight in ((OUTLINE, thickness + 2), (arc_color, thickness * (2 if chosen else 1))):
            axes = (arc_radius, arc_radius)
            cv2.ellipse(canvas, center, axes, 0, start, start + sweep, color, max(1, weight), cv2.LINE_AA)
        mid = math.radians(start + sweep / 2)
        outward = (math.cos(mid), math.sin(mid))
        anchor = (center[0] + outward[0] * arc_radius * 1.9, center[1] + outward[1] * arc_radius * 1.9)
        spots = [(dx * outward[0] - dy * outward[1], dx * outward[1] + dy * outward[0]) for dx, dy in _LABEL_SPOTS]
        _label(canvas, f"{reading.degrees_2d:.0f}", anchor, scale, (255, 220, 0), taken, directions=spots)
