"""Plotly figures of poses (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from pose_core.angles import ANGLE_SPECS
from pose_core.motion import AngleSeries
from pose_core.repetitions import Repetitions
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
    angles: AngleSeries,
    names: Sequence[str],
    *,
    dimension: str = "3d",
    person: int = 1,
    current_time_s: float | None = None,
    repetitions: Repetitions | None = None,
    height: int = 380,
) -> go.Figure:
    """Cleaned angle series (:func:`pose_core.motion.clean_angles`) of one person: each
    angle solid where its joint was seen; the raw reading as a faint line; readings
    whose joint was not seen dotted and faded (the model's guess); glitches the outlier
    filter replaced as crosses. ``repetitions`` are shaded, with their thresholds;
    ``current_time_s`` draws a cursor. Clicking a point selects it (the app's slider
    follows): every trace carries the frame's row index as customdata."""
    column = "3d" if dimension == "3d" else "2d"
    labels = {s.name: s.label for s in ANGLE_SPECS}
    t = angles.time_s
    rows = np.arange(len(t))
    confident_all = angles.confident[:, person - 1]
    fig = go.Figure()
    for i, name in enumerate(names):
        k = angles.names.index(name)
        color = _PALETTE[i % len(_PALETTE)]
        raw = angles.raw[column][:, person - 1, k]
        seen = confident_all[:, k]
        # Each unseen stretch is drawn from the last seen reading to the next, so the
        # dotted line joins the solid one instead of floating apart.
        edges = seen & (np.r_[False, ~seen[:-1]] | np.r_[~seen[1:], False]) if len(seen) else seen
        unseen = np.where(~seen | edges, raw, np.nan)
        replaced = angles.replaced[column][:, person - 1, k]
        traces = (
            ("raw", np.where(seen, raw, np.nan), {"color": color, "width": 1}, 0.35, "lines", False),
            ("not seen", unseen, {"color": color, "width": 1.5, "dash": "dot"}, 0.3, "lines", False),
            ("", angles.degrees[column][:, person - 1, k], {"color": color, "width": 2.5}, 1.0, "lines+markers", True),
        )
        for kind, values, line, opacity, mode, legend in traces:
            shown = f"{labels[name]}, {kind}" if kind else labels[name]
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=values,
                    customdata=rows,
                    mode=mode,
                    name=shown,
                    legendgroup=name,
                    showlegend=legend,
                    line=line,
                    marker={"size": 3, "color": color},
                    opacity=opacity,
                    connectgaps=False,
                    hovertemplate=f"{shown}<br>%{{x:.2f}} s: %{{y:.1f}}°<extra></extra>",
                )
            )
        if replaced.any():
            fig.add_trace(
                go.Scatter(
                    x=t[replaced],
                    y=raw[replaced],
                    customdata=rows[replaced],
                    mode="markers",
                    name=f"{labels[name]}, glitch replaced",
                    legendgroup=name,
                    showlegend=False,
                    marker={"symbol": "x", "size": 7, "color": color},
                    hovertemplate=f"{labels[name]}: glitch replaced<br>%{{x:.2f}} s: %{{y:.1f}}° read<extra></extra>",
                )
            )
    # Legend entries that say what the line styles mean (no data of their own).
    threshold = f"{angles.min_confidence:g}"
    for label, line, opacity in (
        (f"dotted, faded: not seen (confidence < {threshold}), the model's guess", {"dash": "dot"}, 0.4),
        ("faint: raw reading", {"width": 1}, 0.35),
    ):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=label,
                line={"color": "#777", **line},
                opacity=opacity,
                hoverinfo="skip",
            )
        )
    if angles.replaced[column][:, person - 1].any():
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name="glitch replaced", marker={"symbol": "x", "color": "#777"}
            )
        )
    if repetitions is not None and repetitions.items:
        for rep in repetitions.items:
            fig.add_vrect(
                x0=rep.start_s,
                x1=rep.end_s,
                fillcolor="#59a14f",
                opacity=0.12,
                line_width=0,
                annotation_text=str(rep.number),
                annotation_position="top left",
            )
        for level in (repetitions.low_degrees, repetitions.high_degrees):
            fig.add_hline(y=level, line={"color": "#59a14f", "dash": "dash", "width": 1})
    if current_time_s is not None:
        fig.add_vline(x=current_time_s, line={"color": "#444", "dash": "dot", "width": 1.5})
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": {"text": "time (s)"}},
        yaxis={"title": {"text": f"{column.upper()} angle (°)"}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
        hovermode="closest",
        clickmode="event+select",
        uirevision="angles",
    )
    return fig


def skeletons_3d(
    skeletons: Sequence[tuple[str, np.ndarray, str]], visibility: Sequence[np.ndarray] | None = None, height: int = 480
) -> go.Figure:
    """Several skeletons in one 3D view: (name, (33, 3) world-like coordinates with y
    down, colour) each, e.g. a reference and the other pose aligned to it."""
    fig = go.Figure()
    for n, (name, world, color) in enumerate(skeletons):
        xyz = _to_plot(np.asarray(world, np.float64))
        xs: list[float | None] = []
        ys: list[float | None] = []
        zs: list[float | None] = []
        seen = visibility[n] if visibility is not None else np.ones(len(xyz))
        for a, b in BONES:
            if np.isfinite(xyz[[a, b]]).all() and min(seen[a], seen[b]) >= 0.5:
                for i in (a, b):
                    xs.append(float(xyz[i, 0]))
                    ys.append(float(xyz[i, 1]))
                    zs.append(float(xyz[i, 2]))
                xs.append(None)
                ys.append(None)
                zs.append(None)
        fig.add_trace(
            go.Scatter3d(
                x=xs,
                y=ys,
                z=zs,
                mode="lines+markers",
                name=name,
                line={"color": color, "width": 6},
                marker={"size": 3, "color": color},
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        legend={"orientation": "h", "yanchor": "top", "y": 0.0, "x": 0.0},
        scene={
            "aspectmode": "data",
            "xaxis": {"title": {"text": "x"}},
            "yaxis": {"title": {"text": "depth"}},
            "zaxis": {"title": {"text": "up"}},
            "camera": {"eye": {"x": 0.5, "y": -3.4, "z": 0.3}, "up": {"x": 0, "y": 0, "z": 1}},
        },
        uirevision="compare-3d",
    )
    return fig
