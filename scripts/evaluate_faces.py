#!/usr/bin/env python
"""Face decisions measured as error rates: 1:1 (FMR / FNMR), 1:N with strangers (FPIR / FNIR / wrong), failure to
acquire, and the DET curve. Prints JSON with --json.

    python scripts/evaluate_faces.py --pairs ../shared/faces/pairs.csv --json              # LFW pairs list
    python scripts/evaluate_faces.py --open-set ../shared/faces/labels.csv --identify --fta \\
        --plot docs/det_sface.png --techniques --json                                      # everything

--pairs PAIRS.csv   a,b,same pairs: model_id, pairs, threshold, accuracy, fmr, fnmr at the shipped 1:1 operating
                    point (a pair with an image without a face counts as an error, never skipped), best accuracy.
--open-set LABELS   every pair among the labelled single-face photos (path,identity,n_faces): FMR / FNMR at the 1:1
                    operating point and at FMR 1e-3 / 1e-4 / 1e-5, the same with identities held out (scripts/
                    face_eval/openset.py); --calibrate adds the FMR curve server/faces/calibration.py holds.
--identify [LABELS] 1:N with two templates per person and strangers held out, 5 folds, the production gallery,
                    operating point and rule (face_eval/identify.py); FPIR / FNIR / wrong at the gallery's size and
                    the rule's figures at 100 / 1,000 / 10,000 people. LABELS defaults to --open-set's.
--fta [LABELS]      photos the production quality gate refuses, per purpose and code (face_eval/fta.py).
--plot FILE.png     DET curve of --open-set's pairs with the operating points marked.
--costs             the time the kept 1:N techniques cost per decision at 10,000 people (threshold per N, a
                    search over 2 templates per person against 1).
--techniques        also: face + mirror average, cohort normalisation, one / two / centroid templates, a kiosk's
                    second frame (agree vs mean), each with its effect and time cost.
--storage float16   every embedding rounded to float16 and back before it is scored (a gallery stored as float16;
                    the probes are rounded too, so this bounds the effect from above). Default float32 (as stored).

Every image goes through the API's intake (decode_image), the engine's detector, the quality gate's face choice
(the most prominent face) and the engine's embedding; embeddings are made once and shared by every evaluation.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import server  # noqa: E402,F401  (sets the BLAS/OpenMP thread caps before numpy loads OpenBLAS, as in the server)
import numpy as np  # noqa: E402

from face_eval import rates  # noqa: E402
from face_eval.photos import Embeddings, embed_paths, read_labels  # noqa: E402
from server.config import Settings  # noqa: E402
from server.faces.engine import load_engine  # noqa: E402


def load(model: str | None = None) -> tuple[Settings, object, float]:
    """The settings (FACE_MODEL replaced by `model`), the engine loaded with them, and the load time in seconds."""
    settings = Settings()
    if model:
        settings = settings.model_copy(update={"face_model": model})
    t0 = time.perf_counter()
    engine = load_engine(settings)
    return settings, engine, time.perf_counter() - t0


def evaluate(pairs_csv: Path, model: str | None = None, threshold: float | None = None, loaded=None,
             emb: Embeddings | None = None, storage: str = "float32") -> dict:
    """The pairs list at the shipped 1:1 point (or `threshold`). `loaded`: what load() returned."""
    settings, engine, load_s = loaded or load(model)
    base = pairs_csv.parent
    with open(pairs_csv, newline="") as fh:
        rows = [(base / r["a"], base / r["b"], int(r["same"])) for r in csv.DictReader(fh)]
    paths = sorted({p for a, b, _ in rows for p in (a, b)})
    emb = as_stored(embed_paths(engine, settings, paths, into=emb), storage)
    vec = emb.vectors
    a_idx = [vec[a] for a, _, _ in rows]
    b_idx = [vec[b] for _, b, _ in rows]
    valid = np.array([x is not None and y is not None for x, y in zip(a_idx, b_idx)], bool)
    scores = np.array([float(x @ y) if ok else -1.0 for x, y, ok in zip(a_idx, b_idx, valid)])
    same = np.array([s for _, _, s in rows])
    op = engine.threshold if threshold is None else threshold
    at_op = rates.at_threshold(scores, same, valid, op)
    best_t, best_acc = rates.best_accuracy(scores, same, valid)
    impostor = scores[valid & (same == 0)]
    failed = sorted(str(p.relative_to(base)) for p in paths if vec[p] is None)
    timing = emb.timing()
    return {
        "model_id": engine.model_id, "pairs": len(rows), "images": len(paths),
        "failed": len(failed), "failed_images": failed, "pairs_with_failed_image": int((~valid).sum()),
        "threshold": round(op, 4), "accuracy": round(at_op["accuracy"], 4),
        "fmr": round(at_op["fmr"], 6), "fnmr": round(at_op["fnmr"], 4),
        "best_threshold": round(best_t, 4), "best_accuracy": round(best_acc, 4),
        "threshold_fmr_1pct": round(rates.threshold_at_fmr(impostor, 0.01), 4) if len(impostor) else None,
        "ms_per_image": round(sum(timing.get(k, 0) for k in ("decode", "detect", "embed")), 2),
        "load_s": round(load_s, 3),
    }


def as_stored(emb: Embeddings, storage: str) -> Embeddings:
    """The embeddings as a gallery of `storage` would hold them (float16: rounded to half precision and back)."""
    if storage == "float16":
        for vectors in (emb.vectors, emb.mirror_vectors):
            for k, v in vectors.items():
                if v is not None:
                    vectors[k] = v.astype(np.float16).astype(np.float32)
    return emb


def run_labels(args, settings, engine, emb: Embeddings) -> dict:
    """--open-set / --identify / --fta / --plot on labelled photos."""
    from face_eval.openset import evaluate_open_set

    out: dict = {}
    labels = args.open_set or (args.identify if isinstance(args.identify, Path) else None)
    photos = read_labels(labels) if labels else []
    if photos:
        emb = as_stored(embed_paths(engine, settings, [p.path for p in photos], mirror=args.techniques, into=emb),
                        args.storage)
        out["embedding_ms"] = emb.timing()
        out["storage"] = args.storage
    if args.open_set:
        figures, arrays = evaluate_open_set(photos, emb, engine.threshold, techniques=args.techniques,
                                            calibrate=args.calibrate)
        out["open_set"] = figures
        if args.plot:
            out["plot"] = str(plot(args.plot, engine, arrays))
    if args.identify:
        from face_eval.identify import evaluate_identify

        second = None
        if args.techniques:
            second = embed_paths(engine, settings, [p.path for p in photos], as_second_frame=True)
        thresholds = tuple(float(t) for t in args.thresholds.split(",") if t.strip())
        out["identify"] = evaluate_identify(photos, emb, engine.model_id, engine.margin, second_frame=second,
                                            techniques=args.techniques, thresholds=thresholds)
    if args.fta:
        from face_eval.fta import evaluate_fta

        fta_labels = args.fta if isinstance(args.fta, Path) else labels
        out["fta"] = evaluate_fta(read_labels(fta_labels), engine, settings)
    return out


def plot(path: Path, engine, arrays: dict) -> Path:
    from face_eval.identify import SIZES, TEMPLATES_PER_PERSON
    from face_eval.plot import det_plot
    from server.faces.operating import one_to_many, one_to_one

    curve = arrays["curve"]
    floor = one_to_one(curve).threshold
    points = [{"label": "1:1 (shipped)", "threshold": engine.threshold}]
    for n in SIZES:
        p = one_to_many(curve, n, n * TEMPLATES_PER_PERSON, floor=floor, margin=engine.margin)
        points.append({"label": f"1:N at {n:,} people", "threshold": p.threshold})
    title = (f"{engine.model_id}: DET over {len(arrays['impostor']):,} impostor and "
             f"{len(arrays['genuine']):,} genuine pairs")
    return det_plot(path, arrays["genuine"], arrays["impostor"], points, title, curve=curve)


def _plain(value):
    """numpy scalars in the figures -> JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=Path, help="pairs.csv with a,b,same")
    ap.add_argument("--open-set", type=Path, metavar="LABELS_CSV", help="every pair among the labelled photos")
    ap.add_argument("--identify", type=Path, nargs="?", const=True, metavar="LABELS_CSV",
                    help="1:N with strangers held out (default labels: --open-set's)")
    ap.add_argument("--fta", type=Path, nargs="?", const=True, metavar="LABELS_CSV",
                    help="failure to acquire per purpose and code (default labels: --open-set's)")
    ap.add_argument("--plot", type=Path, metavar="FILE.png", help="DET curve of --open-set's pairs")
    ap.add_argument("--techniques", action="store_true", help="measure the techniques tried (slower)")
    ap.add_argument("--costs", action="store_true",
                    help="what the kept 1:N techniques cost per decision at 10,000 people (no photos needed)")
    ap.add_argument("--calibrate", action="store_true", help="--open-set: print the FMR curve (calibration.py)")
    ap.add_argument("--thresholds", default="", help="--identify: also report these thresholds (comma list)")
    ap.add_argument("--model", help="FACE_MODEL to evaluate (default: the configured one)")
    ap.add_argument("--threshold", type=float, help="--pairs: operating threshold (default: the engine's 1:1)")
    ap.add_argument("--storage", choices=("float32", "float16"), default="float32",
                    help="score the embeddings as a gallery of this type stores them")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    needs_labels = args.identify is True or args.fta is True or args.plot
    if not (args.pairs or args.open_set or args.identify or args.fta or args.costs):
        ap.error("give --pairs, --open-set, --identify, --fta or --costs")
    if needs_labels and not args.open_set:
        ap.error("--plot, and --identify / --fta without a file, need --open-set LABELS_CSV")
    settings, engine, load_s = loaded = load(args.model)
    emb = Embeddings(engine.model_id)
    result: dict = {}
    if args.pairs:
        result = evaluate(args.pairs, args.model, args.threshold, loaded=loaded, emb=emb, storage=args.storage)
    else:
        result = {"model_id": engine.model_id, "threshold": round(engine.threshold, 4), "load_s": round(load_s, 3)}
    result.update(run_labels(args, settings, engine, emb))
    if args.costs:
        from face_eval.identify import rule_costs

        result["costs_at_10000_people"] = rule_costs(engine.model_id, engine.dim)
    if args.json:
        print(json.dumps(result, indent=2, default=_plain))
    else:
        for k, v in result.items():
            if k != "failed_images":
                print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
