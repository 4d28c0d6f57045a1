"""--plot FILE.png: the DET curve (FNMR against FMR, both on log axes) with the operating points marked."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import rates


def det_plot(path: Path, genuine: np.ndarray, impostor: np.ndarray, points: list[dict], title: str,
             curve=None) -> Path:
    """points: [{"label", "threshold"}], drawn at (FMR, FNMR) of that threshold. curve (an FmrCurve): also the DET
    beyond the measured pairs, FMR read off the fitted curve (dashed), and the points placed by it: below ~1e-5 the
    pairs cannot measure an FMR (one pair is 2.7e-6 of them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmr, fnmr = rates.det_points(genuine, impostor)
    floor = 0.5 / max(1, len(genuine))  # FNMR 0 cannot be drawn on a log axis: drawn at half a pair
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    ax.plot(fmr, np.maximum(fnmr, floor), color="#1f4e79", lw=1.8, label="measured (every pair)")
    gen = np.sort(genuine)
    if curve is not None:
        ts = np.linspace(curve.threshold_for(1e-4), curve.threshold_for(1e-9), 200)
        ax.plot([curve.fmr(t) for t in ts], np.maximum(np.searchsorted(gen, ts) / max(1, len(gen)), floor), "--",
                color="#1f4e79", lw=1.2, label="FMR from the fitted tail (beyond the pairs)")
    markers = "osD^vP*X"
    for i, p in enumerate(points):
        r = rates.rates_at(genuine, impostor, p["threshold"])
        x = curve.fmr(p["threshold"]) if curve is not None else max(r["fmr"], 0.5 / max(1, len(impostor)))
        ax.plot([x], [max(r["fnmr"], floor)], markers[i % len(markers)], ms=8,
                label=f"{p['label']}: t={p['threshold']:.3f}, FMR {x:.1e}, FNMR {r['fnmr']:.2%}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("FMR (false match rate, per comparison)")
    ax.set_ylabel("FNMR (false non-match rate, one comparison)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
