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


@dataclass(frozen=True)
class DrawStyle:
    joint_color: RGB = (230, 30, 30)  # red joints
    bone_color: RGB = (255, 255, 255)  # white bones
    mask_color: RGB = (40, 140, 255)
    line_thickness: int | None = None  # None: scale with the image (about 1/300 of its short side)
    joint_radius: int | None = None  # None: scale with the image
    visibility_threshold: float = 0.5  # below it a joint/bone is drawn faded, not hidden
    faded_opacity: float = 0.3
    mask_opacity: float = 0.4
    show_mask: bool = False
    show_angles: bool = False
    angle_names: tuple[str, ...] = HEADLINE_ANGLES  # which arcs show_angles draws
    number_people: bool = True  # with two or more people, draw each one's number beside them

    def sizes(self, width: int, height: int) -> tuple[int, int]:
        base = max(1.0, min(width, height) / 300.0)
        thickness = self.line_thickness or max(2, round(base))
        radius = self.joint_radius or max(3, round(base * 2.2))
        return thickness, radius


def _pt(xy: np.ndarray) -> tuple[int, int] | None:
    if np.isnan(xy).any():
        return None
    return int(round(float(xy[0]))), int(round(float(xy[1])))


def draw_overlay(
    rgb: np.ndarray,
    poses: Sequence[PoseResult],
    style: DrawStyle = DrawStyle(),
    angles: Sequence[Sequence[AngleReading]] | None = None,
) -> np.ndarray:
    """A copy of ``rgb`` (H, W, 3) uint8 with each pose drawn on it.

    ``angles`` (one sequence per pose) is needed only when ``style.show_angles``.
    """
    height, width = rgb.shape[:2]
    canvas = rgb.copy()
    thickness, radius = style.sizes(width, height)
    for pose in poses:
        if style.show_mask and pose.segmentation_mask is not None:
            alpha = (pose.segmentation_mask.astype(np.float32) / 255.0 * style.mask_opacity)[:, :, None]
            canvas = (canvas * (1 - alpha) + np.array(style.mask_color, np.float32) * alpha).astype(np.uint8)

    # Low-visibility parts first, on a layer blended once over just their bounding box
    # (blending the whole frame costs ~10 ms at 720p), then the visible parts on top.
    faded_bones: list[tuple[tuple[int, int], tuple[int, int]]] = []
    faded_joints: list[tuple[int, int]] = []
    solid_bones: list[tuple[tuple[int, int], tuple[int, int]]] = []
    solid_joints: list[tuple[int, int]] = []
    for pose in poses:
        xy = pose.landmarks_px
        visible = pose.visibility >= style.visibility_threshold
        for a, b in BONES:
            pa, pb = _pt(xy[a]), _pt(xy[b])
            if pa is not None and pb is not None:
                (solid_bones if visible[a] and visible[b] else faded_bones).append((pa, pb))
        for i, p in enumerate(xy):
            if (center := _pt(p)) is not None:
                (solid_joints if visible[i] else faded_joints).append(center)
    if faded_bones or faded_joints:
        points = np.array([p for bone in faded_bones for p in bone] + faded_joints)
        pad = radius + thickness + 2
        x0, y0 = np.maximum(points.min(axis=0) - pad, 0)
        x1, y1 = np.minimum(points.max(axis=0) + pad + 1, [width, height])
        if x1 > x0 and y1 > y0:
            region = canvas[y0:y1, x0:x1]
            layer = region.copy()
            _draw_parts(layer, faded_bones, faded_joints, style, thickness, radius, offset=(int(x0), int(y0)))
            changed = np.any(layer != region, axis=2)
            blend = cv2.addWeighted(layer, style.faded_opacity, region, 1 - style.faded_opacity, 0)
            region[changed] = blend[changed]
    _draw_parts(canvas, solid_bones, solid_joints, style, thickness, radius)

    if style.show_angles and angles is not None:
        for pose, readings in zip(poses, angles, strict=False):
            _draw_angle_arcs(canvas, pose, readings, style, thickness)
    if style.number_people and len(poses) > 1:
        for number, pose in enumerate(poses, start=1):
            _draw_number(canvas, pose, number)
    return canvas


def _draw_number(canvas: np.ndarray, pose: PoseResult, number: int) -> None:
    """The person's number (as in the tabs, tables and exports) in a dark box just above
    their head, sized with them and never smaller than a readable 14 px."""
    x0, y0, x1, y1 = pose_bbox_px(pose)
    text = str(number)
    scale = max(0.65, (y1 - y0) / 220)  # FONT_HERSHEY_SIMPLEX is ~22 px tall at scale 1
    weight = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, weight)
    pad = max(3, th // 3)
    height, width = canvas.shape[:2]
    left = int(np.clip((x0 + x1) / 2 - tw / 2 - pad, 0, max(0, width - tw - 2 * pad)))
    top = int(np.clip(y0 - th - base - 3 * pad, 0, max(0, height - th - base - 2 * pad)))
    cv2.rectangle(canvas, (left, top), (left + tw + 2 * pad, top + th + base + 2 * pad), (20, 20, 20), -1)
    origin = (left + pad, top + pad + th)
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), weight, cv2.LINE_AA)


def _draw_parts(
    target: np.ndarray,
    bones: list[tuple[tuple[int, int], tuple[int, int]]],
    joints: list[tuple[int, int]],
    style: DrawStyle,
    thickness: int,
    radius: int,
    offset: tuple[int, int] = (0, 0),
) -> None:
    dx, dy = offset
    for (ax, ay), (bx, by) in bones:
        cv2.line(target, (ax - dx, ay - dy), (bx - dx, by - dy), style.bone_color, thickness, cv2.LINE_AA)
    for cx, cy in joints:
        cv2.circle(target, (cx - dx, cy - dy), radius, style.joint_color, -1, cv2.LINE_AA)
        cv2.circle(target, (cx - dx, cy - dy), radius, (0, 0, 0), max(1, thickness // 2), cv2.LINE_AA)


def _draw_angle_arcs(
    canvas: np.ndarray, pose: PoseResult, readings: Sequence[AngleReading], style: DrawStyle, thickness: int
) -> None:
    height, width = canvas.shape[:2]
    xy = pose.landmarks_px
    arc_radius = max(12, round(min(width, height) / 25))
    font_scale = max(0.4, min(width, height) / 900)
    for reading in readings:
        spec = SPEC_BY_NAME[reading.name]
        if reading.name not in style.angle_names or spec.kind is not AngleKind.JOINT or spec.c is None:
            continue
        if math.isnan(reading.degrees_2d):
            continue
        a, b, c = (xy[[index_of(n) for n in p]].mean(axis=0) for p in (spec.a, spec.b, spec.c))
        start = math.degrees(math.atan2(a[1] - b[1], a[0] - b[0]))
        end = math.degrees(math.atan2(c[1] - b[1], c[0] - b[0]))
        sweep = (end - start + 360) % 360
        if sweep > 180:  # draw the interior angle, the one the number describes
            start, sweep = end, 360 - sweep
        center = _pt(b)
        if center is None:
            continue
        cv2.ellipse(
            canvas,
            center,
            (arc_radius, arc_radius),
            0,
            start,
            start + sweep,
            (255, 220, 0),
            max(1, thickness),
            cv2.LINE_AA,
        )
        mid = math.radians(start + sweep / 2)
        text_at = (int(center[0] + math.cos(mid) * arc_radius * 1.6), int(center[1] + math.sin(mid) * arc_radius * 1.6))
        text = f"{reading.degrees_2d:.0f}"
        for color, weight in (((0, 0, 0), max(2, thickness + 2)), ((255, 220, 0), max(1, thickness // 2 + 1))):
            cv2.putText(canvas, text, text_at, cv2.FONT_HERSHEY_SIMPLEX, font_scale, color, weight, cv2.LINE_AA)
