"""Plotly figures of poses (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from pose_core.angles import ANGLE_SPECS
from pose_core.motion import AngleSeries
from pose_core.repetitions import Repetitions
from pose_core.schema import BONES, LANDMARKS, Region, Side, bone_side
from pose_core.types import PoseResult

SIDE_COLORS: dict[Side, str] = {Side.LEFT: "#f28e2b", Side.RIGHT: "#4e79a7", Side.CENTER: "#9c9c9c"}


def _to_plot(world: np.ndarray) -> np.ndarray:
    """MediaPipe world (x right, y down, z away from camera) -> plot (x right, depth, up)."""
    return np.stack([world[:, 0], world[:, 2], -world[:, 1]], axis=1)


HIGHLIGHT_COLOR = "#ffd400"  # selected landmarks, in 3D as on the overlay


def _bone_lines(
    xyz: np.ndarray, keep: Callable[[tuple[int, int]], bool]
) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """x, y, z lists for one Scatter3d line trace of the bones ``keep`` accepts; None
    between bones breaks the line."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    zs: list[float | None] = []
    for bone in BONES:
        if keep(bone):
            for i in bone:
                xs.append(float(xyz[i, 0]))
                ys.append(float(xyz[i, 1]))
                zs.append(float(xyz[i, 2]))
            xs.append(None)
            ys.append(None)
            zs.append(None)
    return xs, ys, zs


def _cube_scene(xyz: np.ndarray) -> tuple[dict[str, object], list[list[float]], float]:
    """The scene layout of a cube of equal metres around the points (a (N, 3) plot-axis
    array), with a camera in front of them; also the axis ranges and the floor height."""
    known = xyz[~np.isnan(xyz).any(axis=1)]
    if not len(known):
        known = np.zeros((1, 3))
    low, high = known.min(axis=0), known.max(axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2 * 1.1, 0.3)  # a 10 % margin; at least 60 cm across
    ranges = [[float(c - half), float(c + half)] for c in centre]
    axis = {"nticks": 4, "tickfont": {"size": 10}, "showspikes": False}
    scene = {
        # A cube with equal metres on every side: the person fills it whatever their pose.
        "aspectmode": "cube",
        "xaxis": {**axis, "range": ranges[0], "title": {"text": "x (m)"}},
        "yaxis": {**axis, "range": ranges[1], "title": {"text": "depth (m)"}},
        "zaxis": {**axis, "range": ranges[2], "title": {"text": "up (m)"}},
        # In front of the person (the camera's side is negative depth), a little above
        # and to the side so depth reads, close enough that the cube fills the panel.
        "camera": {"eye": {"x": 0.35, "y": -1.45, "z": 0.3}, "up": {"x": 0, "y": 0, "z": 1}},
    }
    return scene, ranges, float(low[2])


def _display(name: str, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(name, name.replace("_", " "))


def skeleton_3d(
    pose: PoseResult,
    visibility_threshold: float = 0.5,
    height: int = 520,
    *,
    highlight: Sequence[int] = (),
    person: int | None = None,
    names: Mapping[str, str] | None = None,
) -> go.Figure:
    """A rotatable 3D skeleton of ``pose.world_landmarks`` in metres.

    The person fills the panel: the scene is a cube around them with equal metres on
    every axis, the camera starts in front of them at their own height, and a floor grid
    lies under their lowest point. Bones and joints are coloured by side (the person's
    left orange, right blue); ``highlight`` landmark indices are drawn larger, in
    HIGHLIGHT_COLOR and named; hover gives each landmark's name and coordinates.
    ``person`` names them in the legend; ``names`` maps landmark names to display names
    (another language).
    """
    xyz = _to_plot(pose.world_landmarks.astype(np.float64))
    scene, ranges, floor = _cube_scene(xyz)
    fig = go.Figure()
    fig.add_trace(_floor_grid(ranges, floor))
    for side in (Side.LEFT, Side.RIGHT, Side.CENTER):
        xs, ys, zs = _bone_lines(xyz, lambda bone, side=side: bone_side(bone) is side)
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
                text=[f"{i} {_display(LANDMARKS[i].name, names)}<br>visibility {pose.visibility[i]:.2f}" for i in idx],
                customdata=np.array(idx),
                hovertemplate="%{text}<br>x %{x:.3f} m, depth %{y:.3f} m, up %{z:.3f} m<extra></extra>",
            )
        )
    chosen = [i for i in highlight if 0 <= i < len(LANDMARKS)]
    if chosen:
        fig.add_trace(
            go.Scatter3d(
                x=xyz[chosen, 0],
                y=xyz[chosen, 1],
                z=xyz[chosen, 2],
                mode="markers+text",
                name="selected",
                marker={"size": 9, "color": HIGHLIGHT_COLOR, "line": {"color": "#222", "width": 2}},
                text=[_display(LANDMARKS[i].name, names) for i in chosen],
                textposition="top center",
                customdata=np.array(chosen),
                hovertemplate="%{text}<br>x %{x:.3f} m, depth %{y:.3f} m, up %{z:.3f} m<extra></extra>",
            )
        )
    legend_title = "person's side: " if person is None else f"Person {person} · side: "
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.0, "x": 0.0, "title": {"text": legend_title}},
        scene=scene,
        uirevision="skeleton",  # keep the user's rotation across reruns
    )
    return fig


def _floor_grid(ranges: list[list[float]], floor: float, lines: int = 7) -> go.Scatter3d:
    """A square grid on the floor (under the person's lowest point) to stand them on."""
    (x0, x1), (y0, y1) = ranges[0], ranges[1]
    xs: list[float | None] = []
    ys: list[float | None] = []
    for t in np.linspace(0, 1, lines):
        x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        xs += [x, x, None, x0, x1, None]
        ys += [y0, y1, None, y, y, None]
    zs = [None if v is None else floor for v in xs]
    return go.Scatter3d(
        x=xs, y=ys, z=zs, mode="lines", line={"color": "#c9ced6", "width": 2}, hoverinfo="skip", showlegend=False
    )


# Where each landmark sits on the landmark map: a person facing you, arms a little out,
# in arbitrary units (x to the image's right, y up). Their left is on your right.
_MAP_POSITIONS: dict[str, tuple[float, float]] = {
    "nose": (0.0, 8.55),
    "left_eye_inner": (0.22, 8.85),
    "left_eye": (0.42, 8.9),
    "left_eye_outer": (0.62, 8.85),
    "right_eye_inner": (-0.22, 8.85),
    "right_eye": (-0.42, 8.9),
    "right_eye_outer": (-0.62, 8.85),
    "left_ear": (0.95, 8.6),
    "right_ear": (-0.95, 8.6),
    "mouth_left": (0.3, 8.2),
    "mouth_right": (-0.3, 8.2),
    "left_shoulder": (1.6, 7.3),
    "right_shoulder": (-1.6, 7.3),
    "left_elbow": (2.3, 5.5),
    "right_elbow": (-2.3, 5.5),
    "left_wrist": (2.8, 3.9),
    "right_wrist": (-2.8, 3.9),
    "left_pinky": (3.3, 3.4),
    "right_pinky": (-3.3, 3.4),
    "left_index": (3.0, 2.75),
    "right_index": (-3.0, 2.75),
    "left_thumb": (2.4, 3.2),
    "right_thumb": (-2.4, 3.2),
    "left_hip": (1.0, 4.0),
    "right_hip": (-1.0, 4.0),
    "left_knee": (1.1, 2.0),
    "right_knee": (-1.1, 2.0),
    "left_ankle": (1.15, 0.45),
    "right_ankle": (-1.15, 0.45),
    "left_heel": (0.9, -0.05),
    "right_heel": (-0.9, -0.05),
    "left_foot_index": (1.6, -0.2),
    "right_foot_index": (-1.6, -0.2),
}
# Labelled on the body's side of their point, so they do not collide with their neighbours'.
_MAP_INWARD_LABELS = frozenset({"left_thumb", "right_thumb", "left_heel", "right_heel"})


def landmark_map(names: Mapping[str, str] | None = None, height: int = 620) -> go.Figure:
    """The 33 landmarks on a figure facing you, each with its number, its name beside
    it (face points are listed in a panel: they are too close to label in place), and
    the bones between them; all from pose_core.schema. ``names`` maps landmark names to
    display names (another language)."""
    xy = np.array([_MAP_POSITIONS[lm.name] for lm in LANDMARKS])
    fig = go.Figure()
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in BONES:
        xs += [float(xy[a, 0]), float(xy[b, 0]), None]
        ys += [float(xy[a, 1]), float(xy[b, 1]), None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#9aa3ad", "width": 3}, hoverinfo="skip"))
    for side in (Side.LEFT, Side.RIGHT, Side.CENTER):
        idx = [lm.index for lm in LANDMARKS if lm.side is side]
        fig.add_trace(
            go.Scatter(
                x=xy[idx, 0],
                y=xy[idx, 1],
                mode="markers",
                marker={"size": 11, "color": SIDE_COLORS[side], "line": {"color": "#222", "width": 1}},
                text=[f"{i} {_display(LANDMARKS[i].name, names)}" for i in idx],
                hovertemplate="%{text}<extra></extra>",
                name=side.value,
            )
        )
    face = [lm.index for lm in LANDMARKS if lm.region is Region.FACE]
    for lm in LANDMARKS:
        x, y = xy[lm.index]
        if lm.region is Region.FACE:
            continue
        right_of_figure = (x >= 0) != (lm.name in _MAP_INWARD_LABELS)  # labels go outwards, away from the body
        fig.add_annotation(
            x=x,
            y=y,
            text=f"<b>{lm.index}</b> {_display(lm.name, names)}",
            showarrow=False,
            xanchor="left" if right_of_figure else "right",
            xshift=9 if right_of_figure else -9,
            font={"size": 11},
        )
    for row, i in enumerate(face):  # the face, as a numbered list beside the head
        fig.add_annotation(
            x=-5.6,
            y=9.6 - row * 0.42,
            text=f"<b>{i}</b> {_display(LANDMARKS[i].name, names)}",
            showarrow=False,
            xanchor="left",
            font={"size": 11},
        )
    for i in face:
        fig.add_annotation(x=xy[i, 0], y=xy[i, 1], text=str(i), showarrow=False, yshift=10, font={"size": 9})
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        xaxis={"visible": False, "range": [-6.0, 6.0]},
        yaxis={"visible": False, "range": [-0.6, 10.0], "scaleanchor": "x"},
        plot_bgcolor="white",
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
    points = [_to_plot(np.asarray(world, np.float64)) for _, world, _ in skeletons]
    scene, ranges, floor = _cube_scene(np.concatenate(points) if points else np.zeros((1, 3)))
    fig.add_trace(_floor_grid(ranges, floor))
    for n, ((name, _, color), xyz) in enumerate(zip(skeletons, points, strict=True)):
        seen = visibility[n] if visibility is not None else np.ones(len(xyz))
        xs, ys, zs = _bone_lines(
            xyz,
            lambda bone, xyz=xyz, seen=seen: (
                bool(np.isfinite(xyz[list(bone)]).all()) and min(seen[bone[0]], seen[bone[1]]) >= 0.5
            ),
        )
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
        scene=scene,
        uirevision="compare-3d",
    )
    return fig
