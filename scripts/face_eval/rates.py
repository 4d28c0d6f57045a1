"""Error rates over many comparisons, vectorised (sorts, never a loop over thresholds x pairs).

Conventions: a comparison is accepted when its score is >= the threshold. FMR = accepted impostor comparisons /
impostor comparisons; FNMR = refused genuine comparisons / genuine comparisons. A pair with an image where no face
was found (`valid` False) is never accepted: it is a false non-match when genuine and counts as an error in accuracy
either way (the convention of the original pairs evaluation).
"""
from __future__ import annotations

import numpy as np


def at_threshold(scores: np.ndarray, same: np.ndarray, valid: np.ndarray, threshold: float) -> dict:
    accept = valid & (scores >= threshold)
    genuine, impostor = same == 1, same == 0
    correct = np.where(genuine, accept, ~accept & valid)
    return {"accuracy": float(correct.mean()) if len(scores) else 0.0,
            "fmr": float((accept & impostor).sum() / max(1, impostor.sum())),
            "fnmr": float((~accept & genuine).sum() / max(1, genuine.sum()))}


def best_accuracy(scores: np.ndarray, same: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    """(threshold, accuracy) of the best accuracy (the lowest such threshold), centred between the score chosen and
    the next lower valid score. O(n log n): the accuracy at every candidate threshold from cumulative counts."""
    s = np.asarray(scores[valid], np.float64)
    g = np.asarray(same[valid]) == 1
    n_total = max(1, len(scores))
    cand = np.r_[np.unique(s), 1.01]  # ascending; 1.01: nothing accepted
    order = np.argsort(s, kind="stable")
    s_sorted, g_sorted = s[order], g[order]
    below = np.searchsorted(s_sorted, cand, side="left")  # comparisons refused at each candidate
    gen_refused = np.r_[0, np.cumsum(g_sorted)][below]
    imp_refused = below - gen_refused
    correct = (int(g.sum()) - gen_refused) + imp_refused
    k = int(np.argmax(correct))
    best_t = float(cand[k])
    lower = s[s < best_t]
    if lower.size:
        best_t = (best_t + float(lower.max())) / 2
    return best_t, int(correct[k]) / n_total


def threshold_at_fmr(impostor: np.ndarray, fmr: float) -> float:
    """The lowest threshold whose empirical FMR is <= fmr (just above the k-th highest impostor score)."""
    imp = np.sort(np.asarray(impostor, np.float64))[::-1]
    k = int(np.floor(fmr * len(imp)))  # at most k impostors may pass
    if k >= len(imp):
        return float(imp[-1])
    return float(np.nextafter(imp[k], np.inf))


def rates_at(genuine: np.ndarray, impostor: np.ndarray, threshold: float, genuine_missing: int = 0) -> dict:
    """FMR / FNMR at a threshold; `genuine_missing` genuine comparisons that could not be made count as refused."""
    fnm = int((genuine < threshold).sum()) + genuine_missing
    return {"threshold": round(float(threshold), 4),
            "fmr": float((impostor >= threshold).mean()) if len(impostor) else 0.0,
            "fnmr": fnm / max(1, len(genuine) + genuine_missing),
            "false_matches": int((impostor >= threshold).sum()), "false_non_matches": fnm}


def det_points(genuine: np.ndarray, impostor: np.ndarray, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """(FMR, FNMR) at n thresholds spread over the impostor tail (log-spaced FMR from 1/len(impostor) to 0.5)."""
    imp = np.sort(impostor)
    gen = np.sort(genuine)
    fmrs = np.logspace(np.log10(1.0 / max(1, len(imp))), np.log10(0.5), n)
    ts = np.array([threshold_at_fmr(imp, f) for f in fmrs])
    fmr = (len(imp) - np.searchsorted(imp, ts, side="left")) / max(1, len(imp))
    fnmr = np.searchsorted(gen, ts, side="left") / max(1, len(gen))
    return fmr, fnmr
