"""The labelled photos of an evaluation set and their embeddings, made the way the server makes them.

Every photo goes through the API's intake (server.faces.images.decode_image), the engine's detector, the quality
gate's face choice (server.faces.quality.main_face: the most prominent face, size and position together) and the
engine's embedding. The gate itself is not applied here (failure to acquire is measured apart, by fta.py), so that
error rates are those of the matcher. A photo where no face is found has no embedding: the callers count it.
"""
from __future__ import annotations

import csv
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from server.faces.engine import DetectedFace
from server.faces.images import decode_image
from server.faces.quality import main_face


@dataclass(frozen=True)
class Photo:
    rel: str  # path relative to the labels file's folder
    identity: str
    path: Path


def read_labels(labels_csv: Path) -> list[Photo]:
    """The single-face photos with an identity (rows with n_faces empty or 1), in file order."""
    base = labels_csv.parent
    with open(labels_csv, newline="") as fh:
        return [Photo(r["path"], r["identity"], base / r["path"]) for r in csv.DictReader(fh)
                if r.get("identity") and (r.get("n_faces") or "") in ("", "1")]


def mirrored(image: np.ndarray, face: DetectedFace) -> tuple[np.ndarray, DetectedFace]:
    """The image flipped left-right and the same face in it (box and landmarks mirrored, left/right swapped)."""
    w = image.shape[1]
    flipped = np.ascontiguousarray(image[:, ::-1])
    marks = None
    if face.landmarks is not None:
        m = face.landmarks.copy()
        m[:, 0] = (w - 1) - m[:, 0]
        marks = m[[1, 0, 2, 4, 3]].astype(np.float32)  # r-eye <-> l-eye, r-mouth <-> l-mouth
    return flipped, DetectedFace(w - face.x - face.w, face.y, face.w, face.h, face.score, marks)


@dataclass
class Embeddings:
    """Embeddings by path (None: no face found) and what they cost."""

    model_id: str
    vectors: dict[Path, np.ndarray | None] = field(default_factory=dict)
    mirror_vectors: dict[Path, np.ndarray | None] = field(default_factory=dict)
    ms: dict[str, list[float]] = field(default_factory=lambda: {"decode": [], "detect": [], "embed": [], "mirror": []})

    def failed(self, base: Path) -> list[str]:
        return sorted(str(p.relative_to(base)) for p, v in self.vectors.items() if v is None)

    def timing(self) -> dict:
        return {k: round(float(np.median(v)), 2) for k, v in self.ms.items() if v}

    def matrix(self, photos: list[Photo], mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the photos with a face, the index of each row's photo). mirror: the average of the face's and
        its mirror image's embedding, L2-normalised."""
        keep, rows = [], []
        for i, p in enumerate(photos):
            v = self.vectors.get(p.path)
            if v is None:
                continue
            if mirror:
                v = v + self.mirror_vectors[p.path]
                v = v / np.linalg.norm(v)
            keep.append(i)
            rows.append(v)
        dim = rows[0].shape[0] if rows else 0
        return np.asarray(rows, np.float32).reshape(len(rows), dim), np.asarray(keep, int)


def second_frame(data: bytes, seed: int) -> bytes:
    """A kiosk's next frame of the same moment, made from a photo: shifted by up to 3 % of its size, scaled by
    0.96-1.04, brightness x0.93-1.07, re-encoded as JPEG quality 85 (the kiosk page sends JPEG frames)."""
    import io

    from PIL import Image, ImageEnhance

    rng = np.random.default_rng(seed)
    img = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = img.size
    scale = rng.uniform(0.96, 1.04)
    dx, dy = rng.uniform(-0.03, 0.03, 2) * (w, h)
    img = img.transform((w, h), Image.Transform.AFFINE, (1 / scale, 0, dx, 0, 1 / scale, dy),
                        resample=Image.Resampling.BILINEAR, fillcolor=(128, 128, 128))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.93, 1.07))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def embed_paths(engine, settings, paths, *, mirror: bool = False, into: Embeddings | None = None,
                as_second_frame: bool = False) -> Embeddings:
    """Embed every path not embedded yet (`into` keeps earlier work: one pass per photo for every evaluation).
    as_second_frame: embed second_frame() of each photo instead of the photo."""
    out = into or Embeddings(engine.model_id)
    for path in paths:
        if path in out.vectors and (not mirror or path in out.mirror_vectors):
            continue
        data = Path(path).read_bytes()
        if as_second_frame:
            data = second_frame(data, seed=zlib.crc32(Path(path).name.encode()))
        t0 = time.perf_counter()
        image = decode_image(data, settings.image_max_pixels)
        t1 = time.perf_counter()
        faces = engine.detect(image)
        t2 = time.perf_counter()
        face = main_face(faces, settings, image.shape)[0] if faces else None
        out.vectors[path] = None if face is None else engine.embed(image, face)
        t3 = time.perf_counter()
        out.ms["decode"].append((t1 - t0) * 1000)
        out.ms["detect"].append((t2 - t1) * 1000)
        if face is not None:
            out.ms["embed"].append((t3 - t2) * 1000)
        if mirror:
            if face is None:
                out.mirror_vectors[path] = None
            else:
                flipped, twin = mirrored(image, face)
                out.mirror_vectors[path] = engine.embed(flipped, twin)
                out.ms["mirror"].append((time.perf_counter() - t3) * 1000)
    return out
