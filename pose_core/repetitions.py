"""Counting repetitions of a movement (squats, curls, arm raises) from one angle over time.

A repetition is a trip from one end of the movement to the other and back: the angle
leaves its *start zone* (where the clip begins, e.g. the straight knee of a standing
person), reaches the far zone (the bent knee) and comes back. Four things keep noise from
being counted:

- two thresholds with hysteresis: the angle must cross *both* the near and the far
  threshold, so jitter around one threshold is never a repetition;
- a minimum range: a joint that moves less than ``min_range_degrees`` (robust range:
  5th to 95th percentile) is not repeating anything;
- a minimum time per phase: a visit to a zone shorter than ``min_phase_s`` (a glitch the
  outlier filter let through) is ignored;
- a confidence gate: only confident readings count (NaN otherwise); a gap in them longer
  than ``max_gap_s`` abandons the repetition in progress rather than guessing across it.

Thresholds sit at ``low_fraction`` and ``high_fraction`` of the robust range unless given
in degrees. :func:`pick_angle` chooses the angle with the largest robust range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pose_core.angles import SPEC_BY_NAME
from pose_core.motion import AngleSeries, min_sustained_frames, robust_range, sustained


@dataclass(frozen=True)
class RepetitionSettings:
    angle: str | None = None  # None: the angle with the largest robust range (pick_angle)
    dimension: str = "3d"
    low_fraction: float = 0.3  # thresholds as fractions of the robust range...
    high_fraction: float = 0.7
    low_degrees: float | None = None  # ...unless given in degrees
    high_degrees: float | None = None
    min_range_degrees: float = 30.0
    min_phase_s: float = 0.15
    max_gap_s: float = 1.0

    def __post_init__(self) -> None:
        if self.angle is not None and self.angle not in SPEC_BY_NAME:
            raise ValueError(f"unknown angle {self.angle!r}; choose one of: {', '.join(SPEC_BY_NAME)}")
        if not 0.0 <= self.low_fraction < self.high_fraction <= 1.0:
            raise ValueError("need 0 <= low_fraction < high_fraction <= 1")
        if (self.low_degrees is None) != (self.high_degrees is None):
            raise ValueError("give both low_degrees and high_degrees, or neither")
        if self.low_degrees is not None and self.high_degrees is not None and self.low_degrees >= self.high_degrees:
            raise ValueError("low_degrees must be below high_degrees")


@dataclass(frozen=True)
class Repetition:
    number: int  # 1-based
    start_s: float  # the angle leaves the start zone
    turn_s: float  # the far end of the movement (the extreme angle)
    end_s: float  # back in the start zone
    min_degrees: float
    max_degrees: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def out_s(self) -> float:
        """Time from the start to the far end (the "down" of a squat)."""
        return self.turn_s - self.start_s

    @property
    def back_s(self) -> float:
        """Time from the far end back to the start zone (the "up" of a squat)."""
        return self.end_s - self.turn_s

    def as_dict(self) -> dict[str, float]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "min_degrees": round(self.min_degrees, 1),
            "max_degrees": round(self.max_degrees, 1),
        }


@dataclass(frozen=True)
class Repetitions:
    angle: str | None  # None when no angle moves enough
    dimension: str
    person: int
    low_degrees: float  # the thresholds used (NaN when no angle moved enough)
    high_degrees: float
    starts_high: bool  # the start zone is above the high threshold (a straight knee)
    items: tuple[Repetition, ...]
    note: str | None = None  # why there are none, when there are none

    @property
    def count(self) -> int:
        return len(self.items)

    def done_by(self, time_s: float) -> tuple[int, Repetition | None]:
        """(repetitions finished by ``time_s``, the one in progress then or None)."""
        done = sum(1 for r in self.items if r.end_s <= time_s)
        current = next((r for r in self.items if r.start_s <= time_s < r.end_s), None)
        return done, current

    def as_dict(self) -> dict[str, object]:
        return {"angle": self.angle, "count": self.count, "items": [r.as_dict() for r in self.items]}


def pick_angle(angles: AngleSeries, person: int = 1, dimension: str = "3d") -> tuple[str | None, float]:
    """The angle of ``person`` with the largest robust range (5th-95th percentile of its
    sustained confident readings), and that range; (None, nan) if none was seen."""
    values = angles.degrees[dimension][:, person - 1]
    counted = sustained(~np.isnan(values), min_sustained_frames(angles.fps))
    best, best_range = None, -math.inf
    for k, name in enumerate(angles.names):
        low, high = robust_range(values[counted[:, k], k])
        if not math.isnan(low) and high - low > best_range:
            best, best_range = name, high - low
    return best, (best_range if best else math.nan)


def count_repetitions(angles: AngleSeries, person: int = 1, settings: RepetitionSettings | None = None) -> Repetitions:
    """Repetitions of ``person`` (1-based) in the cleaned angle series."""
    settings = settings or RepetitionSettings()
    name = settings.angle or pick_angle(angles, person, settings.dimension)[0]
    if name is None:
        return Repetitions(None, settings.dimension, person, math.nan, math.nan, True, (), "no angle was seen clearly")
    return count_in_track(angles.time_s, angles.track(name, person, settings.dimension), name, settings, person)


def count_in_track(
    time_s: np.ndarray,
    degrees: np.ndarray,
    name: str,
    settings: RepetitionSettings | None = None,
    person: int = 1,
) -> Repetitions:
    """Repetitions in one angle track: ``time_s`` (T,) seconds, ``degrees`` (T,) with NaN
    where the reading is not confident. 10 minutes at 30 fps take a few milliseconds."""
    settings = settings or RepetitionSettings()
    time_s = np.asarray(time_s, np.float64)
    degrees = np.asarray(degrees, np.float64)
    low, high = robust_range(degrees)

    def none(note: str, lo: float = math.nan, hi: float = math.nan) -> Repetitions:
        return Repetitions(name, settings.dimension, person, lo, hi, True, (), note)

    if math.isnan(low):
        return none(f"{SPEC_BY_NAME[name].label} was never seen clearly")
    if high - low < settings.min_range_degrees:
        return none(
            f"{SPEC_BY_NAME[name].label} moves through {high - low:.0f}°, "
            f"less than the {settings.min_range_degrees:.0f}° a repetition needs"
        )
    if settings.low_degrees is not None and settings.high_degrees is not None:
        lo_thr, hi_thr = settings.low_degrees, settings.high_degrees
    else:
        lo_thr = low + settings.low_fraction * (high - low)
        hi_thr = low + settings.high_fraction * (high - low)
    zone = np.zeros(len(degrees), np.int8)  # +1 above hi_thr, -1 below lo_thr, 0 between or unknown
    with np.errstate(invalid="ignore"):
        zone[degrees >= hi_thr] = 1
        zone[degrees <= lo_thr] = -1
    visits = _visits(time_s, zone, settings)
    items: list[Repetition] = []
    for first, _far, back in _trips(visits):
        # The repetition runs from the last reading in the start zone before leaving it
        # to the first reading back in it.
        start, end = first[2], back[1]
        segment = degrees[start : end + 1]
        if not np.isfinite(segment).any():
            continue
        turn = start + int(np.nanargmin(segment) if first[0] > 0 else np.nanargmax(segment))
        items.append(
            Repetition(
                number=len(items) + 1,
                start_s=float(time_s[start]),
                turn_s=float(time_s[turn]),
                end_s=float(time_s[end]),
                min_degrees=float(np.nanmin(segment)),
                max_degrees=float(np.nanmax(segment)),
            )
        )
    starts_high = visits[0][0] > 0 if visits else True
    note = None if items else "the angle never went to the far threshold and back"
    return Repetitions(name, settings.dimension, person, lo_thr, hi_thr, starts_high, tuple(items), note)


Visit = tuple[int, int, int]  # (zone +1/-1, first frame in it, last frame in it)


def _visits(time_s: np.ndarray, zone: np.ndarray, settings: RepetitionSettings) -> list[Visit | None]:
    """The zones the angle visits in turn, each merged with the next visit to the same
    zone when what lay between was too short to count; ``None`` marks a gap in the
    readings longer than ``max_gap_s`` (the trip in progress is abandoned there)."""
    raw: list[Visit | None] = []
    last_seen = -1
    for i in np.flatnonzero(zone != 0):
        if last_seen >= 0 and time_s[i] - time_s[last_seen] > settings.max_gap_s:
            raw.append(None)
        z = int(zone[i])
        prev = raw[-1] if raw else None
        if prev is not None and prev[0] == z:
            raw[-1] = (z, prev[1], int(i))
        else:
            raw.append((z, int(i), int(i)))
        last_seen = int(i)
    # A visit shorter than min_phase_s (entering it to entering the next zone) is noise:
    # drop it and join its neighbours, which are then in the same zone.
    merged: list[Visit | None] = []
    for n, visit in enumerate(raw):
        if visit is None:
            merged.append(None)
            continue
        nxt = raw[n + 1] if n + 1 < len(raw) else None
        until = time_s[nxt[1]] if nxt is not None else time_s[visit[2]] + settings.min_phase_s
        if until - time_s[visit[1]] < settings.min_phase_s and merged and merged[-1] is not None and nxt is not None:
            continue
        prev = merged[-1] if merged else None
        if prev is not None and prev[0] == visit[0]:
            merged[-1] = (visit[0], prev[1], visit[2])
        else:
            merged.append(visit)
    return merged


def _trips(visits: list[Visit | None]) -> list[tuple[Visit, Visit, Visit]]:
    """(start, far, back) visit triples: start zone, the other zone, the start zone again.
    The start zone is the first zone visited; after a gap, counting resumes at the next
    visit to it (a trip seen only in part is not a repetition)."""
    trips: list[tuple[Visit, Visit, Visit]] = []
    first = next((v for v in visits if v is not None), None)
    if first is None:
        return trips
    start_zone = first[0]
    run: list[Visit] = []
    for visit in visits:
        if visit is None:
            run = []
            continue
        if not run and visit[0] != start_zone:
            continue
        run.append(visit)
        if len(run) >= 3 and run[-1][0] == start_zone and run[-2][0] != start_zone and run[-3][0] == start_zone:
            trips.append((run[-3], run[-2], run[-1]))
            run = [run[-1]]
    return trips
