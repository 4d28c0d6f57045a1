"""Operating points set by error rates (pure: numpy only; no engine, no gallery, no database).

A face decision compares scores (cosine similarities) with a threshold. The threshold is not a number picked for
accuracy on balanced pairs: it is the score at which a stated error rate is reached, read off the model's measured
false match curve (`FmrCurve`: the share of impostor comparisons scoring at or above each threshold).

* 1:1 (face login with an employee code, /faces/verify, the enrollment duplicate check): FMR <= ONE_TO_ONE_FMR (1e-4,
  one impostor comparison in 10,000 accepted).
* 1:N (kiosk, /faces/identify, face login without a code): a search compares the probe with every template in the
  gallery, so a stranger is falsely identified when ANY of those comparisons passes. With `comparisons` templates the
  false positive identification rate is at most comparisons x FMR(threshold) (the union bound; templates of one person
  are correlated, so the real rate is lower). The 1:N threshold is the one that keeps that bound at ONE_TO_MANY_FPIR
  (0.5 %) for the gallery's current size, and never below the 1:1 threshold. It therefore rises as people enroll.

The curves are measured by `scripts/evaluate_faces.py --open-set LABELS.csv --calibrate` on every impostor pair of the
labelled photos (empirical where at least MIN_TAIL_PAIRS pairs pass, beyond that a per-probe Gaussian tail fitted to
the same scores) and written into server/faces/calibration.py. How well the rule holds on photos it was not fitted on
is measured by `--identify` with identities held out (cross-validation): docs/faces.md.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from collections.abc import Sequence

import numpy as np

ONE_TO_ONE_FMR = 1e-4
ONE_TO_MANY_FPIR = 0.005
# The thresholds are set for half the target rate on the measured curve: photos the curve was not measured on (another
# population, other cameras) give somewhat different impostor scores. Measured with identities held out
# (docs/faces.md): at the curve's own 1e-4 point the held-out FMR was 1.16e-4; with this margin it stays below 1e-4.
SAFETY = 2.0
MIN_TAIL_PAIRS = 10  # below this many impostor pairs above a threshold, the fitted tail is used instead


@dataclass(frozen=True)
class FmrCurve:
    """Per-comparison false match rate of one model: FMR(t) = 10 ** log10_fmr, at ascending thresholds."""

    model_id: str
    thresholds: tuple[float, ...]
    log10_fmr: tuple[float, ...]  # non-increasing
    source: str = ""  # what it was measured on

    def __post_init__(self) -> None:  # numpy copies, made once: a decision reads the curve in microseconds
        object.__setattr__(self, "_t", np.asarray(self.thresholds, np.float64))
        object.__setattr__(self, "_y", np.asarray(self.log10_fmr, np.float64))

    def fmr(self, threshold: float) -> float:
        """FMR at `threshold` (log-linear between the points; clamped at both ends)."""
        return float(10 ** np.interp(threshold, self._t, self._y))

    def threshold_for(self, fmr: float) -> float:
        """The lowest threshold whose FMR is at most `fmr` (inverse of fmr(); beyond the curve: its last point)."""
        t, y = self._t, self._y
        if fmr <= 0:
            return float(t[-1])
        target = math.log10(fmr)
        if target >= y[0]:
            return float(t[0])
        if target <= y[-1]:
            return float(t[-1])
        i = int(np.argmax(y <= target))  # first point at or below the target (y is non-increasing)
        y0, y1, t0, t1 = y[i - 1], y[i], t[i - 1], t[i]
        return float(t1 if y0 == y1 else t0 + (t1 - t0) * (y0 - target) / (y0 - y1))


@dataclass(frozen=True)
class OperatingPoint:
    """The rule in force for one decision: threshold, and the error rate it is set for and expected to give."""

    kind: str  # "1:1" | "1:N"
    threshold: float
    target: str  # e.g. "FMR<=1e-4", "FPIR<=0.005"
    expected_fmr: float | None  # per comparison, at the threshold (None: uncalibrated model)
    expected_fpir: float | None = None  # 1:N: comparisons x expected_fmr (capped at 1): an upper bound
    gallery_size: int | None = None  # 1:N: people in the gallery (N)
    comparisons: int | None = None  # 1:N: templates compared with a probe
    margin: float | None = None  # 1:N: the best identity must beat the best other one by this much
    calibrated: bool = True
    source: str = ""

    def as_dict(self) -> dict:
        out = asdict(self)
        out["threshold"] = round(self.threshold, 4)
        for k in ("expected_fmr", "expected_fpir"):
            if out[k] is not None:
                out[k] = float(f"{out[k]:.3g}")
        return out


def one_to_one(curve: FmrCurve | None, *, fixed: float | None = None, fmr: float = ONE_TO_ONE_FMR,
               fallback: float = 0.5) -> OperatingPoint:
    """The 1:1 point: the threshold where FMR reaches `fmr` (`fixed`, e.g. MATCH_THRESHOLD, wins when given)."""
    if curve is None:
        t = fallback if fixed is None else fixed
        return OperatingPoint("1:1", t, f"FMR<={fmr:g}", None, calibrated=False, source="not calibrated")
    t = curve.threshold_for(fmr / SAFETY) if fixed is None else fixed
    return OperatingPoint("1:1", t, f"FMR<={fmr:g}", curve.fmr(t), source=curve.source)


def one_to_many(curve: FmrCurve | None, people: int, comparisons: int, *, floor: float, margin: float,
                fpir: float = ONE_TO_MANY_FPIR, fixed: float | None = None) -> OperatingPoint:
    """The 1:N point for a gallery of `people` holding `comparisons` templates: the threshold where
    comparisons x FMR(threshold) = fpir / SAFETY, never below `floor` (the 1:1 threshold). `fixed` (an explicit
    IDENTIFY_THRESHOLD) replaces the computed threshold; the expected FPIR is still reported for it."""
    n = max(1, int(comparisons))
    target = f"FPIR<={fpir:g}"
    if curve is None:
        t = floor if fixed is None else fixed
        return OperatingPoint("1:N", t, target, None, None, people, comparisons, margin, False, "not calibrated")
    t = max(floor, curve.threshold_for(fpir / (SAFETY * n))) if fixed is None else fixed
    fmr = curve.fmr(t)
    return OperatingPoint("1:N", t, target, fmr, min(1.0, n * fmr), people, comparisons, margin, True, curve.source)


def for_gallery(engine, people: int, comparisons: int) -> OperatingPoint:
    """The 1:N point of `engine` (its curve, 1:1 threshold as the floor, margin, IDENTIFY_FPIR) for a gallery of
    `people` holding `comparisons` templates: THE rule of the kiosk, /faces/identify, face login without a code and
    the enrollment duplicate check."""
    return one_to_many(getattr(engine, "curve", None), people, comparisons, floor=engine.threshold,
                       margin=engine.margin, fpir=getattr(engine, "identify_fpir", ONE_TO_MANY_FPIR))


# ----------------------------------------------------------------------------- measuring a curve (scripts)

def fit_curve(model_id: str, impostor: np.ndarray, probe_mean: np.ndarray, probe_std: np.ndarray,
              grid: Sequence[float], source: str = "") -> FmrCurve:
    """The FMR curve of `impostor` scores (every impostor comparison) on `grid`: the empirical rate where at least
    MIN_TAIL_PAIRS pairs pass; beyond, the shape of a Gaussian tail per probe (each probe's impostor mean and standard
    deviation, averaged over probes: a 'wolf', a probe that scores high against everyone, keeps its heavier tail),
    scaled to meet the empirical rate where the pairs run out (so the curve has no jump there). Made
    non-increasing; never zero (floor 1e-12)."""
    scores = np.sort(np.asarray(impostor, np.float64))
    n = max(1, len(scores))
    mu = np.asarray(probe_mean, np.float64)
    sd = np.maximum(np.asarray(probe_std, np.float64), 1e-6)

    def tail(t: float) -> float:
        return float(np.mean(gaussian_sf((t - mu) / sd)))

    out, scale = [], None
    for t in grid:
        above = n - int(np.searchsorted(scores, t, side="left"))
        if above >= MIN_TAIL_PAIRS and scale is None:
            rate = above / n
            last = (t, rate)
        else:
            if scale is None:  # first threshold past the empirical region: anchor the tail's shape there
                t0, r0 = last if out else (t, 1.0)
                scale = r0 / max(tail(t0), 1e-300)
            rate = scale * tail(t)
        out.append(math.log10(min(1.0, max(rate, 1e-12))))
    y = np.minimum.accumulate(np.asarray(out))
    return FmrCurve(model_id, tuple(round(float(t), 4) for t in grid), tuple(round(float(v), 4) for v in y), source)


def gaussian_sf(z: np.ndarray) -> np.ndarray:
    """1 - Phi(z), elementwise (math.erfc; numpy has no erfc and scipy is not a dependency)."""
    z = np.asarray(z, np.float64)
    return 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(z / math.sqrt(2.0))
