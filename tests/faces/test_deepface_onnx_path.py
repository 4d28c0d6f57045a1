"""The deepface card-model path (DEEPFACE_BACKEND_ENGINE=onnx) without the real weights.

A stand-in ONNX graph with the model's input and output shapes (channels-last (n, H, W, 3) float32 -> (n, dim)) is
written under the file name deepface expects, into a temporary weights directory. The real engine code then loads it
through deepface's own model classes and embeds a real photo, in a subprocess where any network connection raises and
where we check that TensorFlow was never imported.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from server.faces import weights as W
from tests.fixtures.photos import FACES

ROOT = Path(__file__).resolve().parents[2]


def stand_in_graph(card: W.CardModel) -> bytes:
    """(n, H, W, 3) -> mean over H, W -> (n, 3) @ (3, dim) + tanh: tiny, but the real input/output shapes."""
    h, w = card.input_shape
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.normal(size=(3, card.dim)).astype(np.float32), "proj")
    bias = numpy_helper.from_array(rng.normal(size=(card.dim,)).astype(np.float32), "bias")
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["pooled"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["pooled", "proj"], ["proj_out"]),
        helper.make_node("Add", ["proj_out", "bias"], ["pre"]),
        helper.make_node("Tanh", ["pre"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes, f"stand-in-{card.name}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", h, w, 3])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["n", card.dim])],
        initializer=[weight, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model.SerializeToString()


CHILD = r"""
import json, os, socket, sys
def _no_network(*a, **k):
    raise OSError("network access attempted")
socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
socket.getaddrinfo = _no_network

from server.config import Settings
from server.faces.engine import load_engine
from server.faces.images import decode_image
from server.errors import ModelWeightsMissing

settings = Settings(models_dir=os.environ["WEIGHTS"], face_model=os.environ["CARD"])
engine = load_engine(settings)
image = decode_image(open(os.environ["PHOTO"], "rb").read(), 40_000_000)
faces = engine.detect(image)
vec = engine.embed(image, faces[0])
out = {"model_id": engine.model_id, "dim": engine.dim, "shape": list(vec.shape), "dtype": str(vec.dtype),
       "norm": float((vec ** 2).sum() ** 0.5), "faces": len(faces), "backend": engine.backend,
       "tensorflow": "tensorflow" in sys.modules, "torch": "torch" in sys.modules,
       "threshold": engine.threshold}
# a missing model must fail with our error, never reach deepface's downloader
os.remove(os.path.join(os.environ["WEIGHTS"], os.environ["FILE"]))
from deepface.modules import modeling
modeling.cached_models["facial_recognition"].clear()
try:
    load_engine(settings)
    out["missing"] = "loaded?!"
except ModelWeightsMissing as exc:
    out["missing"] = exc.code
try:  # even calling deepface directly cannot download: its downloader is replaced by our guard
    modeling.build_model(task="facial_recognition", model_name=os.environ["CARD"])
    out["direct"] = "loaded?!"
except ModelWeightsMissing as exc:
    out["direct"] = exc.code
print(json.dumps(out))
"""


@pytest.mark.parametrize("name", list(W.CARD_MODELS))
def test_card_model_loads_and_embeds_offline_without_tensorflow(name, tmp_path, models_dir):
    card = W.CARD_MODELS[name]
    weights = tmp_path / "models"
    weights.mkdir()
    (weights / card.file).write_bytes(stand_in_graph(card))
    shutil.copy(models_dir / W.YUNET_FILE, weights / W.YUNET_FILE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPFACE_", "FACE_MODEL"))}
    env.update(WEIGHTS=str(weights), CARD=name, FILE=card.file, PHOTO=str(FACES / "deepface_id01/img5.jpg"),
               PYTHONPATH=str(ROOT), HOME=str(tmp_path))  # a fresh HOME: deepface must not touch ~/.deepface
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["model_id"] == "deepface-" + name.lower()
    assert out["backend"] == "onnx"
    assert out["dim"] == card.dim and out["shape"] == [card.dim] and out["dtype"] == "float32"
    assert abs(out["norm"] - 1.0) < 1e-4 and out["faces"] == 1
    assert out["tensorflow"] is False and out["torch"] is False
    assert out["missing"] == "model_weights_missing" and out["direct"] == "model_weights_missing"
    assert not (tmp_path / ".deepface").exists()
