"""Safe image intake with real and crafted files: limits, formats, EXIF, odd pixel modes."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, features

from server.errors import ImageTooLarge, ImageTooManyPixels, InvalidImage
from server.faces.images import decode_image, image_size, read_limited
from tests.fixtures.photos import photo

MP = 40_000_000


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


class CountingStream(io.RawIOBase):
    """An endless upload that counts how much was read from it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, n=-1):
        n = 65536 if n is None or n < 0 else n
        self.read_bytes += n
        return b"\0" * n


def test_read_limited_accepts_up_to_the_limit():
    data = photo("deepface_id01/img5.jpg")
    assert read_limited(io.BytesIO(data), len(data)) == data
    assert read_limited(data, len(data)) == data


def test_read_limited_stops_right_after_the_limit():
    stream = CountingStream()
    with pytest.raises(ImageTooLarge) as exc:
        read_limited(stream, 1_000_000)
    assert exc.value.status_code == 413 and exc.value.code == "image_too_large"
    assert stream.read_bytes <= 1_000_000 + 65536  # never read whole


def test_read_limited_upload_file_like():
    class Upload:  # what Starlette's UploadFile exposes: .file and .size
        def __init__(self, data):
            self.file, self.size = io.BytesIO(data), len(data)

    data = photo("deepface_id03/img51.jpg")
    assert read_limited(Upload(data), 10**6) == data
    with pytest.raises(ImageTooLarge):
        read_limited(Upload(data), 1000)


def test_decode_jpeg_is_contiguous_bgr():
    data = photo("deepface_id01/img5.jpg")
    arr = decode_image(data, MP)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3 and arr.flags.c_contiguous
    assert np.array_equal(arr[:, :, ::-1], rgb)


def test_decode_grayscale_png():
    arr = decode_image(photo("noface/skimage_brick.png"), MP)
    assert arr.shape == (512, 512, 3)
    assert np.array_equal(arr[..., 0], arr[..., 2])


def test_decode_16bit_png_scales_to_8bit():
    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    data = _encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    arr = decode_image(data, MP)
    assert arr.dtype == np.uint8 and arr.shape == (64, 64, 3)
    assert arr[0, 0, 0] == 0 and arr[-1, -1, 0] >= 250


def test_decode_cmyk_jpeg():
    rgb = Image.open(io.BytesIO(photo("deepface_id03/img51.jpg"))).convert("RGB")
    arr = decode_image(_encode(rgb.convert("CMYK"), "JPEG", quality=95), MP)
    ref = np.asarray(rgb)[:, :, ::-1].astype(int)
    assert arr.shape == ref.shape and np.abs(arr.astype(int) - ref).mean() < 12


def test_decode_rgba_png_composited_on_white():
    img = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    arr = decode_image(_encode(img, "PNG"), MP)
    assert arr.shape == (30, 40, 3) and (arr == 255).all()


@pytest.mark.skipif(not features.check("webp"), reason="Pillow without WebP")
def test_decode_webp():
    rgb = Image.open(io.BytesIO(photo("deepface_id03/img51.jpg"))).convert("RGB")
    arr = decode_image(_encode(rgb, "WEBP", quality=90), MP)
    assert arr.shape == (rgb.height, rgb.width, 3)


def test_exif_orientation_is_applied():
    rgb = Image.open(io.BytesIO(photo("deepface_id03/img51.jpg"))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    arr = decode_image(_encode(rgb, "JPEG", exif=exif.tobytes()), MP)
    assert arr.shape[:2] == (rgb.width, rgb.height)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height (no real pixel data): a decompression-bomb header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_huge_png_refused_from_header_without_allocating():
    data = _png_header_only(20000, 20000)
    assert image_size(_png_header_only(5000, 4000)) == (5000, 4000)
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooManyPixels) as exc:
            decode_image(data, MP)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exc.value.code == "image_too_large" and exc.value.status_code == 422
    assert peak < 20 * 1024 * 1024


@pytest.mark.parametrize("size", [(100000, 1), (1, 100000), (30000, 59), (59, 59)])
def test_images_too_thin_to_hold_a_face_are_refused_from_the_header(size):
    """Shorter side below min_side (the service passes MIN_FACE_SIZE): 422 invalid_image before decoding."""
    data = _png_header_only(*size)
    with pytest.raises(InvalidImage) as exc:
        decode_image(data, MP, min_side=60)
    assert exc.value.status_code == 422 and exc.value.code == "invalid_image"
    assert exc.value.details == {"width": size[0], "height": size[1], "min_side": 60}


def test_min_side_lets_a_small_but_usable_image_through():
    img = Image.new("RGB", (60, 400), (90, 120, 150))
    assert decode_image(_encode(img, "PNG"), MP, min_side=60).shape == (400, 60, 3)
    assert decode_image(_encode(Image.new("RGB", (1, 1)), "PNG"), MP).shape == (1, 1, 3)  # default: no minimum


def test_pixel_limit_is_configurable():
    with pytest.raises(ImageTooManyPixels):
        decode_image(photo("deepface_id01/img5.jpg"), 1000)


@pytest.mark.parametrize("payload", [
    b"",
    b"not an image at all",
    b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>",
    b"<!doctype html><html><body>hi</body></html>",
    b"/etc/passwd",
    b"https://example.com/face.jpg",
    b"data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==",
])
def test_non_images_are_invalid(payload):
    with pytest.raises(InvalidImage) as exc:
        decode_image(payload, MP)
    assert exc.value.code == "invalid_image" and exc.value.status_code == 422


def test_gif_and_bmp_are_refused():
    img = Image.new("RGB", (20, 20), (10, 200, 10))
    for fmt in ("GIF", "BMP", "TIFF"):
        with pytest.raises(InvalidImage):
            decode_image(_encode(img, fmt), MP)
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(InvalidImage):
        decode_image(buf.getvalue(), MP)


def test_truncated_jpeg_is_invalid():
    data = photo("deepface_id01/img11.jpg")
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 2], MP)


def test_truncated_png_is_invalid():
    data = photo("noface/skimage_brick.png")
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 3], MP)


def _big_jpeg(scale: int = 5) -> bytes:
    """A real photo (deepface_id01/img11, 600x800) enlarged to 3000x4000 (12 MP), as a phone would send."""
    img = Image.open(io.BytesIO(photo("deepface_id01/img11.jpg"))).convert("RGB")
    return _encode(img.resize((img.width * scale, img.height * scale), Image.Resampling.BICUBIC), "JPEG", quality=92)


def test_big_jpeg_is_decoded_at_reduced_scale_with_less_memory():
    from server.faces.images import DRAFT_SIDE

    data = _big_jpeg()
    tracemalloc.start()
    try:
        full = decode_image(data, MP)
        full_peak = tracemalloc.get_traced_memory()[1]
        del full
        tracemalloc.reset_peak()
        small = decode_image(data, MP, min_side=60, draft_side=DRAFT_SIDE)
        small_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert small.shape == (2000, 1500, 3)  # 1/2 scale: the longer side stays >= DRAFT_SIDE (1600)
    assert max(small.shape[:2]) >= DRAFT_SIDE
    assert small_peak < full_peak / 3, (small_peak, full_peak)


def test_draft_only_touches_jpegs_much_larger_than_needed():
    from server.faces.images import DRAFT_SIDE

    jpeg = photo("deepface_id01/img11.jpg")  # 600x800: decoded as is
    assert decode_image(jpeg, MP, draft_side=DRAFT_SIDE).shape == decode_image(jpeg, MP).shape == (800, 600, 3)
    big_png = _encode(Image.new("RGB", (3400, 200), (10, 20, 30)), "PNG")  # not a JPEG: no DCT scaling
    assert decode_image(big_png, MP, draft_side=DRAFT_SIDE).shape == (200, 3400, 3)
    strip = _encode(Image.new("RGB", (8000, 100), (10, 20, 30)), "JPEG")  # the shorter side keeps min_side
    assert decode_image(strip, MP, min_side=60, draft_side=DRAFT_SIDE).shape[0] >= 60


def test_draft_keeps_the_embedding(sface, face_settings):
    """The reduced decode gives the same identity: the detector works at <= 640 px, the embedding from the crop."""
    from server.faces import service

    data = _big_jpeg()
    full = decode_image(data, MP)
    face = max(sface.detect(full), key=lambda f: f.area)
    reference = sface.embed(full, face)
    from server.faces.runtime import FaceRuntime

    rt = FaceRuntime(face_settings, engine=sface)
    sample = service.analyze(rt, data, "enroll")  # decoded with DRAFT_SIDE
    assert sample.quality["box"][2] < face.w * 0.6  # it really ran on the half-size decode
    assert float(sample.embedding @ reference) > 0.97
    other = service.analyze(rt, photo("deepface_id01/img5.jpg"), "login")
    assert float(sample.embedding @ other.embedding) > sface.threshold + 0.2  # still clearly the same person
