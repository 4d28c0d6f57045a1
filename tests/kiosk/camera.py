"""A fake camera for Chromium: a .y4m (YUV4MPEG2, 4:2:0) video built from a real photo."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps


def photo_to_y4m(photo: Path, out: Path, width: int = 640, height: int = 480, frames: int = 2) -> Path:
    """Letterbox the photo into width×height and write it as `frames` identical 4:2:0 frames."""
    img = ImageOps.exif_transpose(Image.open(photo)).convert("RGB")
    img = ImageOps.pad(img, (width, height), color=(40, 40, 40))
    y, cb, cr = img.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = (b"FRAME\n" + y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes()
             + cr.resize(half, Image.BILINEAR).tobytes())
    with open(out, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(frame)
    return out
