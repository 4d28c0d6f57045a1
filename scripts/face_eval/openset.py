"""--open-set: every pair among the labelled photos (1:1 error rates over all impostor pairs, not balanced pairs).

Reports FMR / FNMR at the shipped 1:1 operating point and at FMR 1e-3 / 1e-4 / 1e-5, the same with identities held
out (5 folds: the threshold is chosen on the pairs of the other folds' identities and measured on the pairs of the
held-out ones, which is how the rule meets photos it was not fitted on), the measured FMR curve (--calibrate) and the
techniques tried on the same pairs (--techniques): the face + mirror-image embedding average and cohort score
normalisation.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np

from server.faces.operating import FmrCurve, fit_curve, one_to_one

from . import rates
from .photos import Embeddings, Photo

FMR_POINTS = (1e-3, 1e-4, 1e-5)
FOLDS = 5
CURVE_POINTS = 101  # thresholds of a curve: from the median impostor score to 1.0


def fold_of(identity: str, folds: int = FOLDS) -> int:
    """A stable fold per identity (the same in every run and for every model)."""
    return int(hashlib.sha1(identity.encode()).hexdigest(), 16) % folds


@dataclass
class PairScores:
    """Scores of every pair of photos with a face, and which are genuine."""

    S: np.ndarray  # (n, n) score matrix of the photos with a face
    ids: np.ndarray  # (n,) identity per row
    rows: np.ndarray  # (n,) index of each row's photo in the photo list
    missing_genuine: int  # genuine pairs that could not be compared (a photo without a face)

    def pairs(self, mask_rows: np.ndarray | None = None, cross: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(genuine, impostor) scores of the pairs i<j; mask_rows: only pairs with both rows in it, or (cross) with
        exactly one row in it."""
        n = len(self.ids)
        iu = np.triu_indices(n, 1)
        same = self.ids[iu[0]] == self.ids[iu[1]]
        s = self.S[iu]
        if mask_rows is not None:
            a, b = mask_rows[iu[0]], mask_rows[iu[1]]
            keep = (a ^ b) if cross else (a & b)
            s, same = s[keep], same[keep]
        return s[same], s[~same]

    def probe_stats(self, mask_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per row: mean and standard deviation of its impostor scores (within mask_rows)."""
        m = np.ones(len(self.ids), bool) if mask_rows is None else mask_rows
        S, ids = self.S[np.ix_(m, m)], self.ids[m]
        other = ids[:, None] != ids[None, :]
        cnt = np.maximum(1, other.sum(1))
        mean = (S * other).sum(1) / cnt
        var = ((S - mean[:, None]) ** 2 * other).sum(1) / cnt
        return mean, np.sqrt(var)


def pair_scores(photos: list[Photo], emb: Embeddings, mirror: bool = False) -> PairScores:
    E, rows = emb.matrix(photos, mirror=mirror)
    ids = np.array([photos[i].identity for i in rows])
    counts: dict[str, int] = {}
    for p in photos:
        counts[p.identity] = counts.get(p.identity, 0) + 1
    total_genuine = sum(c * (c - 1) // 2 for c in counts.values())
    made = sum(c * (c - 1) // 2 for c in np.unique(ids, return_counts=True)[1])
    return PairScores(E @ E.T, ids, rows, total_genuine - made)


def curve_of(model_id: str, ps: PairScores, mask_rows: np.ndarray | None = None, source: str = "") -> FmrCurve:
    _, impostor = ps.pairs(mask_rows)
    mean, std = ps.probe_stats(mask_rows)
    start = round(float(np.median(impostor)), 2) if len(impostor) else 0.0
    step = round((1.0 - start) / (CURVE_POINTS - 1), 4)
    grid = [round(start + i * step, 4) for i in range(CURVE_POINTS)]
    return fit_curve(model_id, impostor, mean, std, grid, source)


def at_fmr_points(genuine: np.ndarray, impostor: np.ndarray, missing: int = 0) -> dict:
    return {f"{f:g}": rates.rates_at(genuine, impostor, rates.threshold_at_fmr(impostor, f), missing)
            for f in FMR_POINTS}


def held_out(ps: PairScores, photos: list[Photo], model_id: str) -> dict:
    """For each FMR point, two thresholds chosen on the other folds' pairs only: `empirical` (the lowest one whose
    FMR there is at most the target) and `rule` (server.faces.operating.one_to_one on the curve fitted there, with
    its safety margin); each measured on the held-out pairs (pairs with a photo of a held-out identity), pooled over
    the folds."""
    folds = np.array([fold_of(photos[i].identity) for i in ps.rows])
    out = {}
    for f in FMR_POINTS:
        res = {"empirical": {"thresholds": [], "fm": 0, "fnm": 0}, "rule": {"thresholds": [], "fm": 0, "fnm": 0}}
        imp_n = gen_n = 0
        for k in range(FOLDS):
            train = folds != k
            _, imp_train = ps.pairs(train)
            chosen = {"empirical": rates.threshold_at_fmr(imp_train, f),
                      "rule": one_to_one(curve_of(model_id, ps, train), fmr=f).threshold}
            g_in, i_in = ps.pairs(~train)
            g_x, i_x = ps.pairs(~train, cross=True)
            gen, imp = np.r_[g_in, g_x], np.r_[i_in, i_x]
            imp_n += len(imp)
            gen_n += len(gen)
            for how, t in chosen.items():
                res[how]["thresholds"].append(round(t, 4))
                res[how]["fm"] += int((imp >= t).sum())
                res[how]["fnm"] += int((gen < t).sum())
        out[f"{f:g}"] = {how: {"thresholds": r["thresholds"], "fmr": r["fm"] / max(1, imp_n),
                               "fnmr": r["fnm"] / max(1, gen_n), "false_matches": r["fm"]}
                         for how, r in res.items()}
        out[f"{f:g}"]["impostor_pairs"] = imp_n
    return out


def cohort_normalised(ps: PairScores, exclude_top: int = 5) -> PairScores:
    """Symmetric score normalisation (S-norm) against a cohort: each photo's scores against all other photos,
    leaving out its own and its `exclude_top` highest (the cohort a gallery gives a probe)."""
    S = ps.S.copy()
    np.fill_diagonal(S, np.nan)
    srt = np.sort(np.where(np.isnan(S), -np.inf, S), axis=1)[:, :-(exclude_top + 1)]
    srt = np.where(np.isinf(srt), np.nan, srt)
    mu, sd = np.nanmean(srt, 1), np.nanstd(srt, 1)
    z = (ps.S - mu[:, None]) / sd[:, None]
    return PairScores(0.5 * (z + z.T), ps.ids, ps.rows, ps.missing_genuine)


def evaluate_open_set(photos: list[Photo], emb: Embeddings, operating_threshold: float, *,
                      techniques: bool = False, calibrate: bool = False) -> tuple[dict, dict]:
    """(the JSON figures, the arrays the DET plot needs)."""
    t0 = time.perf_counter()
    ps = pair_scores(photos, emb)
    genuine, impostor = ps.pairs()
    out = {
        "photos": len(photos), "identities": len({p.identity for p in photos}),
        "failed": len(photos) - len(ps.rows), "genuine_pairs": len(genuine) + ps.missing_genuine,
        "impostor_pairs": len(impostor),
        "at_operating_point": rates.rates_at(genuine, impostor, operating_threshold, ps.missing_genuine),
        "at_fmr": at_fmr_points(genuine, impostor, ps.missing_genuine),
        "held_out_identities": held_out(ps, photos, emb.model_id),
    }
    curve = curve_of(emb.model_id, ps, source=f"{len(impostor)} impostor pairs of {len(photos)} photos")
    if calibrate:
        out["calibration"] = {"thresholds": list(curve.thresholds), "log10_fmr": list(curve.log10_fmr),
                              "source": curve.source}
    if techniques:
        out["techniques"] = {}
        if emb.mirror_vectors:
            mg, mi = pair_scores(photos, emb, mirror=True).pairs()
            out["techniques"]["mirror_average"] = {"at_fmr": at_fmr_points(mg, mi, ps.missing_genuine),
                                                   "extra_ms_per_face": emb.timing().get("mirror")}
        cg, ci = cohort_normalised(ps).pairs()
        out["techniques"]["cohort_snorm"] = {"at_fmr": at_fmr_points(cg, ci, ps.missing_genuine)}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out, {"genuine": genuine, "impostor": impostor, "curve": curve, "scores": ps}
