"""Draw skeleton overlays on RGB images (OpenCV, anti-aliased)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pose_core.angles import SPEC_BY_NAME, AngleKind, AngleReading
from pose_core.inference import PoseResult
from pose_core.schema import BONES, index_of

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
    angle_names: tuple[str, ...] = ("left_elbow", "right_elbow", "left_knee", "right_knee")

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

    # Faded parts go on a separate layer blended once, so overlaps do not darken.
    faded = canvas.copy()
    has_faded = False
    for pose in poses:
        xy = pose.landmarks_px
        visible = pose.visibility >= style.visibility_threshold
        for a, b in BONES:
            pa, pb = _pt(xy[a]), _pt(xy[b])
            if pa is None or pb is None:
                continue
            target = canvas if (visible[a] and visible[b]) else faded
            has_faded |= target is faded
            cv2.line(target, pa, pb, style.bone_color, thickness, cv2.LINE_AA)
        for i, p in enumerate(xy):
            center = _pt(p)
            if center is None:
                continue
            target = canvas if visible[i] else faded
            has_faded |= target is faded
            cv2.circle(target, center, radius, style.joint_color, -1, cv2.LINE_AA)
            cv2.circle(target, center, radius, (0, 0, 0), max(1, thickness // 2), cv2.LINE_AA)
    if has_faded:
        # Pixels only drawn on the faded layer differ from the canvas; blend just those.
        changed = np.any(faded != canvas, axis=2)
        blend = cv2.addWeighted(faded, style.faded_opacity, canvas, 1 - style.faded_opacity, 0)
        canvas[changed] = blend[changed]

    if style.show_angles and angles is not None:
        for pose, readings in zip(poses, angles, strict=False):
            _draw_angle_arcs(canvas, pose, readings, style, thickness)
    return canvas


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
