#!/usr/bin/env python
"""Evaluate a face model on a pairs list (LFW style) and report accuracy / FMR / FNMR; optionally 1:N too.

    python scripts/evaluate_faces.py --pairs ../shared/faces/pairs.csv [--model sface] --json
    python scripts/evaluate_faces.py --pairs ../shared/faces/pairs.csv --identify ../shared/faces/labels.csv --json

--identify runs the kiosk's 1:N rule on labelled photos: the first single-face photo of every identity with at least
two is enrolled (one template each, the production Gallery), every other photo of it is a probe, and each probe is
decided with the production rule (threshold AND margin over the best other identity). It reports right / unknown /
wrong at the model's threshold and margin (or MATCH_THRESHOLD / MATCH_MARGIN), and the same for other margins.

pairs.csv has columns a,b,same (paths relative to its folder). Each image goes through the same
intake as the API (decode_image) and the engine (detect + embed). LFW images are centred on the
labelled person, so when several faces are found the one nearest the image centre is used. A pair
with an image where no face is found counts as an error (never skipped).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import server  # noqa: E402,F401  (sets the BLAS/OpenMP thread caps before numpy loads OpenBLAS, as in the server)
import numpy as np  # noqa: E402

from server.config import Settings  # noqa: E402
from server.faces.engine import load_engine  # noqa: E402
from server.faces.images import decode_image  # noqa: E402


def centre_face(faces, shape):
    if not faces:
        return None
    cy, cx = shape[0] / 2, shape[1] / 2
    return min(faces, key=lambda f: (f.x + f.w / 2 - cx) ** 2 + (f.y + f.h / 2 - cy) ** 2)


def embed_all(engine, paths: list[Path], max_pixels: int) -> tuple[dict, float]:
    embeddings: dict[Path, np.ndarray | None] = {}
    spent = 0.0
    for path in paths:
        data = path.read_bytes()
        t0 = time.perf_counter()
        image = decode_image(data, max_pixels)
        face = centre_face(engine.detect(image), image.shape)
        embeddings[path] = None if face is None else engine.embed(image, face)
        spent += time.perf_counter() - t0
    return embeddings, spent * 1000 / max(1, len(paths))


def rates(scores: np.ndarray, same: np.ndarray, valid: np.ndarray, threshold: float) -> dict:
    accept = valid & (scores >= threshold)
    genuine, impostor = same == 1, same == 0
    correct = np.where(genuine, accept, ~accept & valid)  # invalid pairs are always wrong
    return {
        "accuracy": float(correct.mean()),
        "fmr": float((accept & impostor).sum() / max(1, impostor.sum())),
        "fnmr": float((~accept & genuine).sum() / max(1, genuine.sum())),
    }


def best_threshold(scores: np.ndarray, same: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    candidates = np.unique(np.concatenate([scores[valid], [1.01]]))
    best = (0.0, -1.0)
    for t in candidates:
        acc = rates(scores, same, valid, float(t))["accuracy"]
        if acc > best[1]:
            best = (float(t), acc)
    # centre the threshold between the chosen score and the next lower valid score
    lower = scores[valid & (scores < best[0])]
    if lower.size:
        best = ((best[0] + float(lower.max())) / 2, best[1])
    return best


def load(model: str | None = None) -> tuple[Settings, object, float]:
    """The settings (FACE_MODEL replaced by `model`), the engine loaded with them, and the load time in seconds."""
    settings = Settings()
    if model:
        settings = settings.model_copy(update={"face_model": model})
    t0 = time.perf_counter()
    engine = load_engine(settings)
    return settings, engine, time.perf_counter() - t0


def evaluate(pairs_csv: Path, model: str | None = None, threshold: float | None = None, loaded=None) -> dict:
    """`loaded`: what load() returned, to share one engine with identify_eval (default: load `model`)."""
    settings, engine, load_s = loaded or load(model)
    base = pairs_csv.parent
    with open(pairs_csv, newline="") as fh:
        rows = [(base / r["a"], base / r["b"], int(r["same"])) for r in csv.DictReader(fh)]
    paths = sorted({p for a, b, _ in rows for p in (a, b)})
    emb, ms_per_image = embed_all(engine, paths, settings.image_max_pixels)
    failed = sorted(str(p.relative_to(base)) for p, v in emb.items() if v is None)
    scores = np.array([float(emb[a] @ emb[b]) if emb[a] is not None and emb[b] is not None else -1.0
                       for a, b, _ in rows])
    valid = np.array([emb[a] is not None and emb[b] is not None for a, b, _ in rows])
    same = np.array([s for _, _, s in rows])
    op = engine.threshold if threshold is None else threshold
    at_op = rates(scores, same, valid, op)
    best_t, best_acc = best_threshold(scores, same, valid)
    impostor = np.sort(scores[valid & (same == 0)])
    return {
        "model_id": engine.model_id,
        "pairs": len(rows),
        "images": len(paths),
        "failed": len(failed),
        "failed_images": failed,
        "pairs_with_failed_image": int((~valid).sum()),
        "threshold": round(op, 4),
        "accuracy": round(at_op["accuracy"], 4),
        "fmr": round(at_op["fmr"], 4),
        "fnmr": round(at_op["fnmr"], 4),
        "best_threshold": round(best_t, 4),
        "best_accuracy": round(best_acc, 4),
        "threshold_fmr_1pct": round(float(impostor[int(np.ceil(0.99 * len(impostor))) - 1]) + 1e-4, 4)
        if len(impostor) else None,
        "ms_per_image": round(ms_per_image, 2),
        "load_s": round(load_s, 3),
    }


def identify_eval(labels_csv: Path, model: str | None = None, threshold: float | None = None,
                  margins: tuple[float, ...] = (0.0, 0.03, 0.05, 0.08, 0.10), loaded=None) -> dict:
    from server.faces.gallery import Gallery, decide

    settings, engine, _ = loaded or load(model)
    base = labels_csv.parent
    groups: dict[str, list[Path]] = {}
    with open(labels_csv, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["identity"] and (row.get("n_faces") or "") in ("", "1"):
                groups.setdefault(row["identity"], []).append(base / row["path"])
    groups = {k: sorted(v) for k, v in sorted(groups.items()) if len(v) >= 2}
    emb, _ = embed_all(engine, [p for v in groups.values() for p in v], settings.image_max_pixels)
    enrolled = [(i, v[0]) for i, (k, v) in enumerate(groups.items()) if emb[v[0]] is not None]
    gallery = Gallery()
    gallery.load_arrays(engine.model_id, np.stack([emb[p] for _, p in enrolled]), [i for i, _ in enrolled])
    probes = [(i, p) for i, v in enumerate(groups.values()) for p in v[1:]]
    op = engine.threshold if threshold is None else threshold
    candidates = [(i, None if emb[p] is None else gallery.search(emb[p], engine.model_id, top_k=5)) for i, p in probes]

    def outcome(margin: float) -> dict:
        n = {"right": 0, "unknown": 0, "wrong": 0, "no_face": 0}
        for truth, cands in candidates:
            if cands is None:
                n["no_face"] += 1
                continue
            d = decide(cands, op, margin)
            n["unknown" if not d.recognized else "right" if d.user_id == truth else "wrong"] += 1
        return {**n, "wrong_rate": round(n["wrong"] / max(1, len(candidates)), 4),
                "unknown_rate": round((n["unknown"] + n["no_face"]) / max(1, len(candidates)), 4)}

    return {"model_id": engine.model_id, "identities": len(groups), "enrolled": len(enrolled),
            "probes": len(probes), "threshold": round(op, 4), "margin": engine.margin,
            "at_operating_point": outcome(engine.margin),
            "by_margin": {str(m): outcome(m) for m in margins}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True, type=Path, help="pairs.csv with a,b,same")
    ap.add_argument("--model", help="FACE_MODEL to evaluate (default: the configured one)")
    ap.add_argument("--threshold", type=float, help="operating threshold (default: the engine's)")
    ap.add_argument("--identify", type=Path, metavar="LABELS_CSV",
                    help="also run the 1:N evaluation on labels.csv (path,identity,n_faces)")
    ap.add_argument("--margins", default="0,0.03,0.05,0.08,0.1", help="--identify: margins to report (comma list)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    loaded = load(args.model)  # one engine for both evaluations
    result = evaluate(args.pairs, args.model, args.threshold, loaded=loaded)
    if args.identify:
        margins = tuple(float(m) for m in args.margins.split(",") if m.strip())
        result["identify"] = identify_eval(args.identify, args.model, args.threshold, margins, loaded=loaded)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            if k != "failed_images":
                print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
