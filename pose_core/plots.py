"""Plotly figures of poses (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pose_core.angles import ANGLE_SPECS
from pose_core.schema import BONES, LANDMARKS, Side, bone_side
from pose_core.types import PoseResult

SIDE_COLORS: dict[Side, str] = {Side.LEFT: "#f28e2b", Side.RIGHT: "#4e79a7", Side.CENTER: "#9c9c9c"}


def _to_plot(world: np.ndarray) -> np.ndarray:
    """MediaPipe world (x right, y down, z away from camera) -> plot (x right, depth, up)."""
    return np.stack([world[:, 0], world[:, 2], -world[:, 1]], axis=1)


def skeleton_3d(pose: PoseResult, visibility_threshold: float = 0.5, height: int = 520) -> go.Figure:
    """A rotatable 3D skeleton of ``pose.world_landmarks`` in metres.

    Bones and joints are coloured by side (the person's left orange, right blue), hover
    shows each landmark's name, axes are equal, and the default camera looks at the
    person from the front, upright, as in the photo.
    """
    xyz = _to_plot(pose.world_landmarks.astype(np.float64))
    fig = go.Figure()
    for side in (Side.LEFT, Side.RIGHT, Side.CENTER):
        xs: list[float | None] = []
        ys: list[float | None] = []
        zs: list[float | None] = []
        for bone in BONES:
            if bone_side(bone) is side:
                for i in bone:
                    xs.append(float(xyz[i, 0]))
                    ys.append(float(xyz[i, 1]))
                    zs.append(float(xyz[i, 2]))
                xs.append(None)  # None breaks the line between bones
                ys.append(None)
                zs.append(None)
        fig.add_trace(
            go.Scatter3d(
                x=xs,
                y=ys,
                z=zs,
                mode="lines",
                line={"color": SIDE_COLORS[side], "width": 6},
                hoverinfo="skip",
                name=f"{side.value} bones",
                showlegend=False,
            )
        )
    faded = pose.visibility < visibility_threshold
    for side in (Side.LEFT, Side.RIGHT, Side.CENTER):
        idx = [lm.index for lm in LANDMARKS if lm.side is side]
        fig.add_trace(
            go.Scatter3d(
                x=xyz[idx, 0],
                y=xyz[idx, 1],
                z=xyz[idx, 2],
                mode="markers",
                name=side.value,
                marker={
                    "size": 4,
                    "color": SIDE_COLORS[side],
                    "opacity": 1.0 if not faded[idx].all() else 0.35,
                    "line": {"color": "#222", "width": 1},
                },
                text=[f"{LANDMARKS[i].index} {LANDMARKS[i].name}<br>visibility {pose.visibility[i]:.2f}" for i in idx],
                customdata=np.array(idx),
                hovertemplate="%{text}<br>x %{x:.3f} m, depth %{y:.3f} m, up %{z:.3f} m<extra></extra>",
            )
        )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        legend={"orientation": "h", "yanchor": "top", "y": 0.0, "x": 0.0, "title": {"text": "person's side: "}},
        scene={
            "aspectmode": "data",  # equal metres on every axis
            "xaxis": {"title": {"text": "x (m)"}},
            "yaxis": {"title": {"text": "depth (m)"}},
            "zaxis": {"title": {"text": "up (m)"}},
            # From the front, slightly above, far enough that a whole body fits.
            "camera": {"eye": {"x": 0.5, "y": -3.4, "z": 0.3}, "up": {"x": 0, "y": 0, "z": 1}},
        },
        uirevision="skeleton",  # keep the user's rotation across reruns
    )
    return fig


_PALETTE = (
    "#e15759",
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#d37295",
    "#8cd17d",
)


def angles_over_time(
    raw: pd.DataFrame,
    smoothed: pd.DataFrame,
    names: Sequence[str],
    *,
    dimension: str = "3d",
    person: int = 1,
    current_time_s: float | None = None,
    height: int = 380,
) -> go.Figure:
    """Angle time series (from :func:`pose_core.export.angle_series`): each angle's raw
    readings as a faint line, the smoothed ones solid in the same colour."""
    column = f"degrees_{dimension}"
    labels = {s.name: s.label for s in ANGLE_SPECS}
    fig = go.Figure()
    for i, name in enumerate(names):
        color = _PALETTE[i % len(_PALETTE)]
        for frame, kind in ((raw, "raw"), (smoothed, "smoothed")):
            rows = frame[(frame["angle"] == name) & (frame["person"] == person)]
            fig.add_trace(
                go.Scatter(
                    x=rows["time_s"],
                    y=rows[column],
                    mode="lines",
                    name=f"{labels[name]} ({kind})",
                    legendgroup=name,
                    showlegend=kind == "smoothed",
                    line={"color": color, "width": 1 if kind == "raw" else 2.5},
                    opacity=0.35 if kind == "raw" else 1.0,
                    hovertemplate=f"{labels[name]} {kind}<br>%{{x:.2f}} s: %{{y:.1f}}°<extra></extra>",
                )
            )
    if current_time_s is not None:
        fig.add_vline(x=current_time_s, line={"color": "#888", "dash": "dot", "width": 1})
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": {"text": "time (s)"}},
        yaxis={"title": {"text": f"{dimension.upper()} angle (°)"}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
        hovermode="x unified",
        uirevision="angles",
    )
    return fig
