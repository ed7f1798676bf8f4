"""Smoothing on synthetic signals whose right answers are known."""

import numpy as np
import pytest

from pose_core.smoothing import Smoothing, StreamingSmoother, butterworth, interpolate_gaps, one_euro, smooth

FS = 60.0
T = np.arange(0, 4, 1 / FS)  # 4 s at 60 fps


def test_short_gaps_are_filled_linearly_and_long_or_edge_gaps_are_left_alone():
    x = np.arange(12, dtype=float)
    x[[3, 4]] = np.nan  # 2-frame gap: filled
    x[6:10] = np.nan  # 4-frame gap: too long for max_gap=3
    x[0] = np.nan  # at the start: nothing to interpolate from
    out = interpolate_gaps(x, max_gap=3)
    assert out[3] == pytest.approx(3.0) and out[4] == pytest.approx(4.0)
    assert np.isnan(out[6:10]).all() and np.isnan(out[0])
    assert np.isnan(x[3]), "the input is not modified"


def test_gaps_are_filled_per_channel():
    x = np.zeros((6, 2, 3))
    x[:, 1, 2] = np.arange(6)
    x[2, 1, 2] = np.nan
    assert interpolate_gaps(x, 2)[2, 1, 2] == pytest.approx(2.0)


def test_butterworth_removes_high_frequencies_without_lag():
    slow = np.sin(2 * np.pi * 1.0 * T)  # 1 Hz movement
    noisy = slow + 0.3 * np.sin(2 * np.pi * 20.0 * T)  # 20 Hz jitter
    out = butterworth(noisy, FS, cutoff_hz=5.0, order=2)
    inner = slice(30, -30)  # away from the edges
    assert np.abs(out[inner] - slow[inner]).max() < 0.03
    assert np.argmax(out[:60]) == np.argmax(slow[:60])  # zero phase: the peak does not move


def test_butterworth_keeps_nan_and_filters_each_run():
    x = np.sin(2 * np.pi * T)
    x[100:110] = np.nan
    out = butterworth(x, FS, 5.0)
    assert np.isnan(out[100:110]).all() and not np.isnan(out[:100]).any()


def test_one_euro_passes_a_constant_and_calms_jitter():
    rng = np.random.default_rng(0)
    still = 0.5 + rng.normal(0, 0.01, T.shape)
    out = one_euro(np.full_like(T, 0.5), T)
    np.testing.assert_allclose(out, 0.5)
    assert np.std(one_euro(still, T)[30:]) < 0.5 * np.std(still[30:])


def test_one_euro_is_causal_and_follows_a_step():
    x = np.where(T < 2, 0.0, 1.0)
    out = one_euro(x, T)
    changed = x.copy()
    changed[150:] = 5.0  # change the future
    np.testing.assert_array_equal(one_euro(changed, T)[:150], out[:150])
    assert out[-1] == pytest.approx(1.0, abs=1e-3)  # settles on the new value
    assert 0 < out[121] < 1  # but not instantly


def test_one_euro_restarts_after_a_missing_value():
    x = np.ones_like(T)
    x[50] = np.nan
    x[51:] = 3.0
    out = one_euro(x, T)
    assert np.isnan(out[50]) and out[51] == 3.0


@pytest.mark.parametrize("method", ["none", "one-euro", "butterworth"])
def test_smooth_keeps_the_shape(method):
    x = np.random.default_rng(1).normal(size=(len(T), 33, 3))
    out = smooth(x, T, Smoothing(method=method))
    assert out.shape == x.shape
    if method == "none":
        np.testing.assert_array_equal(out, x)
    else:
        assert np.std(np.diff(out, axis=0)) < np.std(np.diff(x, axis=0))


def test_an_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="none, one-euro, butterworth"):
        Smoothing(method="kalman")


@pytest.mark.parametrize("method", ["none", "one-euro"])
def test_streaming_equals_smoothing_the_whole_series(method):
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(0, 0.01, size=(len(T), 4, 3)), axis=0)
    x[10:12, 1] = np.nan  # a short dropout of one person: filled
    x[40:50, 2] = np.nan  # a long one: left missing
    x[-2:, 3] = np.nan  # at the end: left missing
    x[0:3, 0, 1] = np.nan  # at the start
    spec = Smoothing(method=method, max_gap_frames=5)
    streamer = StreamingSmoother(spec)
    released = [pair for i in range(len(T)) for pair in streamer.push(x[i], T[i])] + streamer.finish()
    assert [i for i, _ in released] == list(range(len(T)))
    np.testing.assert_allclose(np.stack([row for _, row in released]), smooth(x, T, spec), rtol=1e-12, equal_nan=True)


def test_streaming_can_leave_some_channels_unfiltered():
    x = np.stack([np.sin(T * 9), np.sin(T * 9)], axis=1)  # (T, 2)
    streamer = StreamingSmoother(Smoothing(), filtered=np.array([True, False]))
    rows = np.stack(
        [row for i in range(len(T)) for _, row in streamer.push(x[i], T[i])] + [row for _, row in streamer.finish()]
    )
    np.testing.assert_array_equal(rows[:, 1], x[:, 1])
    assert not np.allclose(rows[:, 0], x[:, 0])


def test_butterworth_cannot_stream():
    with pytest.raises(ValueError, match="whole clip"):
        StreamingSmoother(Smoothing(method="butterworth"))
