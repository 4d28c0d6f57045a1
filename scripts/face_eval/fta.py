"""--fta: failure to acquire, i.e. the photos the production quality gate refuses, per purpose and per code.

Every labelled photo (single-face ones: the subject; LFW photos may show other people in the background) goes through
the API's intake and server.faces.quality.check_quality for each purpose, with the server's settings. Reported per
source (the first folder of the path: lfw, small) and in total; plus, for MIN_SHARPNESS, how many photos each
candidate value would refuse (face_blurry) among those that pass every other check.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from server.errors import AppError
from server.faces.images import decode_image
from server.faces.quality import PURPOSES, check_quality, main_face, measure

from .photos import Photo

SHARPNESS_VALUES = (0, 5, 8, 10, 12, 15, 20, 30, 50)


def evaluate_fta(photos: list[Photo], engine, settings) -> dict:
    loose = settings.model_copy(update={"min_sharpness": 0.0})
    per: dict[str, dict[str, Counter]] = {}
    totals: Counter = Counter()
    sharp: dict[str, list[float]] = {}
    refused_examples: dict[str, list[str]] = {}
    for p in photos:
        source = Path(p.rel).parts[0]
        totals[source] += 1
        try:
            image = decode_image(p.path.read_bytes(), settings.image_max_pixels, min_side=settings.min_face_size)
            faces = engine.detect(image)
        except AppError as exc:
            for purpose in PURPOSES:
                per.setdefault(source, {}).setdefault(purpose, Counter())[exc.code] += 1
            continue
        for purpose in PURPOSES:
            try:
                check_quality(image, faces, purpose, settings)
                code = None
            except AppError as exc:
                code = exc.code
                refused_examples.setdefault(f"{purpose}:{code}", []).append(p.rel)
            per.setdefault(source, {}).setdefault(purpose, Counter())[code or "accepted"] += 1
            if purpose == "login":  # sharpness of the face the non-enrollment purposes use, when nothing else fails
                try:
                    check_quality(image, faces, purpose, loose)
                    sharp.setdefault(source, []).append(measure(image, main_face(faces, settings, image.shape)[0])
                                                        ["sharpness"])
                except AppError:
                    pass
    out: dict = {"photos": dict(totals), "min_sharpness": settings.min_sharpness,
                 "dominant_face_ratio": settings.dominant_face_ratio, "by_source": {}}
    for source, purposes in sorted(per.items()):
        rows = {}
        for purpose in PURPOSES:
            c = purposes.get(purpose, Counter())
            refused = sum(v for k, v in c.items() if k != "accepted")
            rows[purpose] = {"fta": round(refused / max(1, totals[source]), 4), "refused": refused,
                             "codes": {k: v for k, v in sorted(c.items()) if k != "accepted"}}
        out["by_source"][source] = rows
    out["sharpness_sweep"] = {source: {str(v): sum(1 for s in values if s < v) for v in SHARPNESS_VALUES}
                              for source, values in sorted(sharp.items())}
    out["sharpness_lowest"] = {source: sorted(values)[:5] for source, values in sorted(sharp.items())}
    out["refused_photos"] = {k: sorted(v)[:20] for k, v in sorted(refused_examples.items())}
    return out
