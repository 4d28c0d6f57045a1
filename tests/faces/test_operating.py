"""Operating points set by error rates: the FMR curve, the 1:1 point and the 1:N rule that follows the gallery's
size."""
from __future__ import annotations

import math

import numpy as np
import pytest

from server.faces import operating as op
from server.faces.calibration import CURVES, curve_for


def _curve() -> op.FmrCurve:
    # FMR 1e-1 at 0.2 falling one decade per 0.05: FMR(t) = 10 ** (-1 - (t - 0.2) / 0.05)
    ts = tuple(round(0.2 + 0.05 * i, 2) for i in range(11))
    return op.FmrCurve("m", ts, tuple(-1.0 - i for i in range(11)), "synthetic")


def test_curve_reads_and_inverts_log_linearly():
    c = _curve()
    assert c.fmr(0.2) == pytest.approx(0.1)
    assert c.fmr(0.225) == pytest.approx(10 ** -1.5)
    assert c.threshold_for(1e-3) == pytest.approx(0.3)
    assert c.threshold_for(10 ** -2.5) == pytest.approx(0.275)
    for f in (0.05, 1e-4, 3e-7):
        assert c.fmr(c.threshold_for(f)) == pytest.approx(f, rel=1e-6)
    assert c.threshold_for(0.5) == 0.2 and c.threshold_for(1e-30) == 0.7  # clamped at both ends


def test_one_to_one_is_set_by_the_fmr_with_the_safety_margin():
    c = _curve()
    p = op.one_to_one(c)
    assert p.kind == "1:1" and p.target == "FMR<=0.0001"
    assert p.expected_fmr == pytest.approx(op.ONE_TO_ONE_FMR / op.SAFETY)
    assert op.one_to_one(c, fixed=0.42).threshold == 0.42  # MATCH_THRESHOLD wins
    unc = op.one_to_one(None, fallback=0.6)
    assert unc.threshold == 0.6 and unc.calibrated is False and unc.expected_fmr is None


def test_one_to_many_threshold_follows_the_gallery_size():
    """The rule: comparisons x FMR(t) = FPIR / SAFETY, never below the 1:1 threshold; it rises as people enroll."""
    c = _curve()
    floor = op.one_to_one(c).threshold
    sizes = [1, 3, 10, 100, 1_000, 10_000, 100_000]
    points = [op.one_to_many(c, n, 2 * n, floor=floor, margin=0.08) for n in sizes]
    thresholds = [p.threshold for p in points]
    assert thresholds == sorted(thresholds) and thresholds[-1] > thresholds[0]
    assert all(t >= floor for t in thresholds)
    for n, p in zip(sizes, points):
        assert p.gallery_size == n and p.comparisons == 2 * n and p.margin == 0.08
        assert p.expected_fpir <= op.ONE_TO_MANY_FPIR / op.SAFETY * (1 + 1e-6)
        assert p.expected_fpir == pytest.approx(min(1.0, 2 * n * c.fmr(p.threshold)))
    # small galleries sit on the 1:1 floor; large ones are exactly at the FPIR target
    assert points[0].threshold == floor
    assert points[-1].expected_fpir == pytest.approx(op.ONE_TO_MANY_FPIR / op.SAFETY, rel=1e-6)
    # ten times the people: one decade less FMR per comparison, 0.05 higher on this curve
    assert points[-1].threshold - points[-2].threshold == pytest.approx(0.05, abs=1e-9)


def test_one_to_many_fixed_threshold_still_reports_its_expected_fpir():
    c = _curve()
    p = op.one_to_many(c, 500, 1000, floor=0.3, margin=0.05, fixed=0.4)
    assert p.threshold == 0.4 and p.expected_fpir == pytest.approx(1000 * c.fmr(0.4))
    unc = op.one_to_many(None, 5, 10, floor=0.6, margin=0.05)
    assert unc.threshold == 0.6 and unc.expected_fpir is None and not unc.calibrated
    d = p.as_dict()
    assert d["threshold"] == 0.4 and d["gallery_size"] == 500 and d["target"] == "FPIR<=0.005"


def test_fit_curve_is_empirical_where_pairs_exist_and_a_gaussian_tail_beyond():
    rng = np.random.default_rng(0)
    mu, sd = 0.1, 0.1
    impostor = rng.normal(mu, sd, 200_000)
    grid = [round(0.1 + 0.05 * i, 2) for i in range(13)]
    c = op.fit_curve("m", impostor, np.full(50, mu), np.full(50, sd), grid)
    for t, y in zip(c.thresholds, c.log10_fmr):
        truth = 0.5 * math.erfc((t - mu) / sd / math.sqrt(2))
        assert abs(y - math.log10(truth)) < 0.15, (t, y, math.log10(truth))  # within ~40 % everywhere
    assert list(c.log10_fmr) == sorted(c.log10_fmr, reverse=True)
    above = int((impostor >= 0.4).sum())  # ~270 pairs: the empirical rate is used there
    assert above >= op.MIN_TAIL_PAIRS and c.fmr(0.4) == pytest.approx(above / len(impostor), rel=1e-3)


def test_the_offline_models_are_calibrated():
    for model_id in ("sface-2021dec", "dlib-resnet-v1", "facenet-20180408"):
        c = curve_for(model_id)
        assert c is not None and c.model_id == model_id and len(c.thresholds) == len(c.log10_fmr) > 50
        assert list(c.log10_fmr) == sorted(c.log10_fmr, reverse=True)
        assert c.fmr(c.threshold_for(1e-4)) == pytest.approx(1e-4, rel=1e-3)
    assert curve_for("deepface-arcface") is None and set(CURVES) >= {"sface-2021dec"}


def test_sface_points_match_the_measured_figures():
    """docs/faces.md: 1:1 at FMR <= 1e-4 sits at ~0.436 for SFace; 1:N at 3 people on that floor, higher at 10,000."""
    c = curve_for("sface-2021dec")
    one = op.one_to_one(c)
    assert 0.42 < one.threshold < 0.45
    three = op.one_to_many(c, 3, 6, floor=one.threshold, margin=0.08)
    big = op.one_to_many(c, 10_000, 20_000, floor=one.threshold, margin=0.08)
    assert three.threshold == one.threshold and 0.38 < three.threshold  # the stranger scored 0.38
    assert 0.52 < big.threshold < 0.58
