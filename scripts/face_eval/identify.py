"""--identify: 1:N with strangers held out, decided by the production gallery, operating point and rule.

Identities are split into 5 folds (openset.fold_of). For each fold: the identities of the OTHER folds with at least
two photos are enrolled with their first two photos (two templates each, as an employee enrolled with two photos);
their further photos are the mated probes; every photo of the fold's identities is a stranger probe (never
enrolled). The FMR curve and the 1:1 floor are fitted on the other folds' impostor pairs only, so every stranger is
decided by a rule that never saw them. Pooled over the folds:

  FPIR  = strangers identified as someone / strangers
  FNIR  = mated probes not identified as themselves (unknown or wrong) / mated probes
  wrong = mated probes identified as someone else

`at_sizes` applies the shipped rule (the curve fitted on every pair) to galleries of 100 / 1,000 / 10,000 people:
the threshold, the FPIR the curve predicts (the set has far fewer than 10,000 people: FPIR at those sizes is the
curve's prediction, not a count), and the FNIR measured at that threshold on this set's mated probes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from server.faces.gallery import Gallery
from server.faces.matching import decide, decide_frames
from server.faces.operating import FmrCurve, for_gallery, one_to_many, one_to_one

from .openset import FOLDS, curve_of, fold_of, pair_scores
from .photos import Embeddings, Photo

SIZES = (100, 1_000, 10_000)
TEMPLATES_PER_PERSON = 2


@dataclass
class Fold:
    gallery: Gallery
    people: int
    templates: int
    mated: list[tuple[int, int]]  # (photo index, enrolled person)
    strangers: list[int]  # photo indices
    curve: FmrCurve


def build_folds(photos: list[Photo], E: dict[int, np.ndarray], model_id: str, ps, *, centroid: bool = False,
                keep: int = TEMPLATES_PER_PERSON) -> list[Fold]:
    """The 5 folds. keep: templates enrolled per person (of the first TEMPLATES_PER_PERSON photos, so that the
    probes stay the same); centroid: one template, the normalised mean of those."""
    by_id: dict[str, list[int]] = {}
    for i, p in enumerate(photos):
        by_id.setdefault(p.identity, []).append(i)
    folds_of_rows = np.array([fold_of(photos[i].identity) for i in ps.rows])
    out = []
    for k in range(FOLDS):
        rows, users, mated, strangers = [], [], [], []
        for person, (identity, idx) in enumerate(sorted(by_id.items())):
            if fold_of(identity) == k:
                strangers += idx
                continue
            if len(idx) < TEMPLATES_PER_PERSON:
                continue
            enrolled = [E[i] for i in idx[:keep] if i in E]
            if centroid and enrolled:
                c = np.sum(enrolled, 0)
                enrolled = [c / np.linalg.norm(c)]
            rows += enrolled
            users += [person] * len(enrolled)
            mated += [(i, person) for i in idx[TEMPLATES_PER_PERSON:]]
        g = Gallery()
        g.load_arrays(model_id, np.asarray(rows, np.float32), users)
        curve = curve_of(model_id, ps, folds_of_rows != k, source=f"fold {k} held out")
        out.append(Fold(g, len(set(users)), len(rows), mated, strangers, curve))
    return out


def run(folds: list[Fold], frames: list[dict[int, np.ndarray]], model_id: str, margin: float, *,
        threshold: float | None = None, fuse: str = "agree") -> dict:
    """Decide every probe of every fold. frames: one {photo index: embedding} per kiosk frame (1 = a single photo).
    fuse: "agree" (every frame recognises the same person: the production rule) or "mean" (one search with the
    L2-normalised mean of the frames' embeddings). threshold: a fixed one instead of the operating point's."""
    n = {"strangers": 0, "false_positives": 0, "mated": 0, "misses": 0, "wrong": 0, "no_face": 0}
    points = []
    for fold in folds:
        floor = one_to_one(fold.curve).threshold
        point = one_to_many(fold.curve, fold.people, fold.templates, floor=floor, margin=margin, fixed=threshold)
        points.append(point)

        def decide_probe(i: int):
            vecs = [f[i] for f in frames if i in f]
            if len(vecs) < len(frames):
                return "no_face"
            if fuse == "mean" and len(vecs) > 1:
                m = np.sum(vecs, 0)
                vecs = [m / np.linalg.norm(m)]
            per_frame = [fold.gallery.search(v, model_id, top_k=5) for v in vecs]
            d = decide(per_frame[0], point.threshold, margin) if len(per_frame) == 1 else \
                decide_frames(per_frame, point.threshold, margin)
            return d.user_id

        for i in fold.strangers:
            n["strangers"] += 1
            who = decide_probe(i)
            n["no_face"] += who == "no_face"
            n["false_positives"] += who not in (None, "no_face")
        for i, person in fold.mated:
            n["mated"] += 1
            who = decide_probe(i)
            n["no_face"] += who == "no_face"
            n["misses"] += who != person
            n["wrong"] += who not in (None, "no_face", person)
    return {**n, "fpir": round(n["false_positives"] / max(1, n["strangers"]), 5),
            "fnir": round(n["misses"] / max(1, n["mated"]), 5),
            "people_per_fold": [f.people for f in folds], "templates_per_fold": [f.templates for f in folds],
            "thresholds_per_fold": [round(p.threshold, 4) for p in points],
            "expected_fpir_per_fold": [None if p.expected_fpir is None else float(f"{p.expected_fpir:.3g}")
                                       for p in points]}


def at_sizes(curve: FmrCurve, folds: list[Fold], frames, model_id: str, margin: float) -> dict:
    out = {}
    floor = one_to_one(curve).threshold
    for n in SIZES:
        point = one_to_many(curve, n, n * TEMPLATES_PER_PERSON, floor=floor, margin=margin)
        measured = run(folds, frames, model_id, margin, threshold=point.threshold)
        out[str(n)] = {**point.as_dict(), "fnir_measured_at_threshold": measured["fnir"],
                       "wrong_measured": measured["wrong"],
                       "fpir_measured_at_eval_size": measured["fpir"]}
    return out


def rule_costs(model_id: str, dim: int, people: int = 10_000, repeat: int = 200) -> dict:
    """What the kept techniques cost per decision at `people` enrolled (random unit templates: only sizes matter):
    the threshold per N (operating.for_gallery) and a search over 2 templates per person against 1."""
    from server.faces.calibration import curve_for

    class _Engine:
        threshold, margin, identify_fpir, curve = 0.44, 0.08, 0.005, curve_for(model_id)

    rng = np.random.default_rng(0)
    out: dict = {}
    t0 = time.perf_counter()
    for _ in range(repeat * 50):
        for_gallery(_Engine, people, 2 * people)
    out["threshold_per_n_us"] = round((time.perf_counter() - t0) / (repeat * 50) * 1e6, 2)
    probe = rng.normal(size=dim).astype(np.float32)
    for per in (1, 2):
        m = rng.normal(size=(people * per, dim)).astype(np.float32)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        g = Gallery()
        g.load_arrays(model_id, m, np.repeat(np.arange(people), per))
        g.search(probe, model_id, top_k=5)
        t0 = time.perf_counter()
        for _ in range(repeat):
            g.search(probe, model_id, top_k=5)
        out[f"search_ms_{per}_template{'s' if per > 1 else ''}"] = round((time.perf_counter() - t0) / repeat * 1e3, 3)
    return out


def evaluate_identify(photos: list[Photo], emb: Embeddings, model_id: str, margin: float, *,
                      second_frame: Embeddings | None = None, techniques: bool = False,
                      thresholds: tuple[float, ...] = ()) -> dict:
    t0 = time.perf_counter()
    ps = pair_scores(photos, emb)
    E = {i: emb.vectors[p.path] for i, p in enumerate(photos) if emb.vectors.get(p.path) is not None}
    folds = build_folds(photos, E, model_id, ps)
    one = [E]
    out = {"folds": FOLDS, "templates_per_person": TEMPLATES_PER_PERSON, "margin": margin,
           "at_operating_point": run(folds, one, model_id, margin)}
    out["by_threshold"] = {f"{t:g}": run(folds, one, model_id, margin, threshold=t) for t in thresholds}
    full = curve_of(model_id, ps, source="every pair")
    out["at_sizes"] = at_sizes(full, folds, one, model_id, margin)
    if techniques:
        tech = {}
        tech["one_template"] = run(build_folds(photos, E, model_id, ps, keep=1), one, model_id, margin)
        tech["centroid_of_two"] = run(build_folds(photos, E, model_id, ps, centroid=True), one, model_id, margin)
        if emb.mirror_vectors:
            mps = pair_scores(photos, emb, mirror=True)
            EM, _ = emb.matrix(photos, mirror=True)
            Em = {int(i): EM[r] for r, i in enumerate(mps.rows)}
            tech["mirror_average"] = {**run(build_folds(photos, Em, model_id, mps), [Em], model_id, margin),
                                      "extra_ms_per_face": emb.timing().get("mirror")}
        if second_frame is not None:
            F2 = {i: second_frame.vectors[p.path] for i, p in enumerate(photos)
                  if second_frame.vectors.get(p.path) is not None}
            tech["two_frames_agree"] = run(folds, [E, F2], model_id, margin, fuse="agree")
            tech["two_frames_mean"] = run(folds, [E, F2], model_id, margin, fuse="mean")
            tech["two_frames_extra_ms"] = second_frame.timing()
        out["techniques"] = tech
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out
