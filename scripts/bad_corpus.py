"""A corpus of bad uploads for the photo endpoints, generated (nothing downloaded, nothing large stored).

`build(full=True)` returns ≥ 500 `Case`s: zero bytes, random bytes, truncated JPEG/PNG, broken headers, 20000×20000
and other huge-dimension images (compressed: a few hundred KB), 30 MB bodies, animated GIF/PNG/WebP, SVG, HTML and
other non-images, EXIF bombs, declared content types that lie, malformed requests and tiny images. `full=False`
gives a reduced corpus (one or two of each kind) for the test suite.

Every case must be answered by a named 4xx (`{"error": {"code": ...}}`), never a 2xx or a 5xx.
"""
from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import dataclass, field
from collections.abc import Callable

from PIL import Image, ImageDraw

MB = 1024 * 1024


@dataclass
class Case:
    name: str
    category: str
    # the photo part(s): (filename, content-type, bytes or a callable making them); None = see `raw`
    files: list[tuple[str, str, bytes | Callable[[], bytes]]] | None = None
    raw: bytes | None = None  # a non-multipart body sent instead of the form
    raw_type: str | None = None
    form: dict[str, str] = field(default_factory=dict)  # extra form fields

    def materialize(self) -> list[tuple[str, str, bytes]]:
        return [(fn, ct, data() if callable(data) else data) for fn, ct, data in (self.files or [])]


# ------------------------------------------------------------------ base images (synthetic, no faces)
def _picture(w: int, h: int, seed: int, mode: str = "RGB") -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h), tuple(rnd.randrange(256) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rnd.randrange(w), rnd.randrange(h)
        d.ellipse([x0, y0, x0 + rnd.randrange(1, w), y0 + rnd.randrange(1, h)],
                  fill=tuple(rnd.randrange(256) for _ in range(3)))
    return img.convert(mode) if mode != "RGB" else img


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png(width: int, height: int, color_type: int = 0, with_data: bool = True) -> bytes:
    """A valid PNG of zeros (gray: color_type 0, RGB: 2) made row by row; 20000×20000 gray is ~400 KB."""
    channels = {0: 1, 2: 3}[color_type]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    out = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", ihdr)]
    if with_data:
        comp, row, parts = zlib.compressobj(9), b"\x00" * (1 + width * channels), []
        for _ in range(height):
            parts.append(comp.compress(row))
        parts.append(comp.flush())
        out.append(_png_chunk(b"IDAT", b"".join(parts)))
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)


def huge_jpeg_header(width: int, height: int) -> bytes:
    """A small baseline JPEG whose SOF0 claims width×height (the scan data is for 16×16)."""
    data = bytearray(_encode(_picture(16, 16, 1), "JPEG", quality=80))
    i = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, height, width)
    return bytes(data)


def exif_bomb(variant: int) -> bytes:
    """A JPEG with hostile EXIF: huge entry counts and offsets, self-referencing IFDs, many large APP1 segments,
    or an impossible orientation."""
    base = _encode(_picture(64, 64, variant), "JPEG", quality=85)
    tiff = bytearray(b"II*\x00" + struct.pack("<I", 8))
    n = (0xFFFF, 4000, 1, 2, 0x7FFF)[variant % 5]
    entries = min(n, 4000)
    tiff += struct.pack("<H", n)
    for k in range(entries):
        tag = 0x0112 if k == 0 else 0x8769 if k == 1 else (0x0100 + k) & 0xFFFF
        typ, count = (3, 1) if k == 0 else (4, 0x3FFFFFFF)
        value = (65535 if variant % 2 else 9) if k == 0 else (8 if k == 1 else 0x7FFFFFF0)  # 0x8769 → loops to IFD0
        tiff += struct.pack("<HHII", tag, typ, count, value)
    tiff += struct.pack("<I", 8)  # next IFD = IFD0 again: a cycle
    payload = b"Exif\x00\x00" + bytes(tiff[: 65533 - 6])
    seg = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    repeats = (1, 10, 60, 1, 100)[variant % 5]  # up to ~6.5 MB of APP1 segments (under the 8 MB body limit)
    return base[:2] + seg * repeats + base[2:]


def _animated(fmt: str, frames: int, seed: int) -> bytes:
    imgs = [_picture(64, 48, seed + k) for k in range(frames)]
    kw = {"save_all": True, "append_images": imgs[1:], "duration": 100, "loop": 0}
    return _encode(imgs[0], fmt, **kw)


def _multipart_garbage(seed: int) -> bytes:
    rnd = random.Random(seed)
    return b"--boundary\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n" + rnd.randbytes(200)


SVGS = [
    b'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><circle cx="50" cy="50" r="40"/></svg>',
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><svg xmlns="http://www.w3.org/2000/svg">'
    b'<text>&lol3;</text></svg>',
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>fetch("/status")</script></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:1/x.png"/></svg>',
]
NON_IMAGES = {
    "html": (b"<!doctype html><html><body><img src=x onerror=alert(1)>hello</body></html>", "text/html"),
    "js": (b"while(true){}", "application/javascript"),
    "json": (b'{"image": "data:image/jpeg;base64,/9j/4AAQ"}', "application/json"),
    "base64_text": (b"/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJCA",
                    "text/plain"),
    "data_url": (b"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk", "text/plain"),
    "url_text": (b"http://127.0.0.1:1/face.jpg", "text/plain"),
    "path_text": (b"/etc/passwd", "text/plain"),
    "pdf": (b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF", "application/pdf"),
    "zip": (b"PK\x03\x04" + bytes(26) + b"PK\x05\x06" + bytes(18), "application/zip"),
    "gzip": (zlib.compress(b"\x00" * 10 * MB, 9), "application/gzip"),
    "elf": (b"\x7fELF\x02\x01\x01" + bytes(57), "application/octet-stream"),
    "xml": (b'<?xml version="1.0"?><root/>', "application/xml"),
    "php": (b"<?php system($_GET['c']); ?>", "image/jpeg"),
    "gif_js_polyglot": (b"GIF89a/*\x00\x00\x00\x00*/=alert(1)//", "image/gif"),
    "heic_like": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "image/heic"),
    "jp2_like": (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64), "image/jp2"),
    "psd_like": (b"8BPS\x00\x01" + bytes(64), "image/vnd.adobe.photoshop"),
    "utf16_text": ("not an image ☺".encode("utf-16"), "text/plain"),
}
OTHER_FORMATS = ["BMP", "TIFF", "ICO", "PPM", "TGA", "PCX", "IM", "SGI"]
CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "application/octet-stream", "text/plain", "", "image/svg+xml",
                 "multipart/form-data", "image/jpeg; charset=utf-8", "x/x"]


def _file(name: str, category: str, filename: str, ctype: str, data, **form) -> Case:
    return Case(name, category, files=[(filename, ctype, data)], form=form)


def build(full: bool = True, seed: int = 7) -> list[Case]:
    rnd = random.Random(seed)
    k = (lambda n: n) if full else (lambda n: min(n, 2))
    cases: list[Case] = []
    add = cases.append
    bases = {
        "jpeg": [_encode(_picture(320, 240, s), "JPEG", quality=90) for s in range(3)]
        + [_encode(_picture(320, 240, 9), "JPEG", quality=80, progressive=True)],
        "png": [_encode(_picture(320, 240, s), "PNG") for s in range(3)]
        + [_encode(_picture(200, 150, 11, "L"), "PNG"), _encode(_picture(200, 150, 12, "RGBA"), "PNG")],
    }

    for i, ct in enumerate(CONTENT_TYPES[: k(10)]):
        add(_file(f"zero_bytes_{i}", "zero_bytes", "empty.jpg", ct or "image/jpeg", b""))
    for i in range(k(150)):
        size = int(10 ** rnd.uniform(0, 6.3))  # 1 B .. 2 MB, log-uniform
        add(_file(f"random_{i}_{size}B", "random_bytes", f"r{i}.jpg", rnd.choice(CONTENT_TYPES[:5]) or "image/jpeg",
                  random.Random(seed + i).randbytes(size)))
    for fmt, blobs in bases.items():
        for b, blob in enumerate(blobs):
            cuts = sorted({max(1, int(len(blob) * f / 24)) for f in range(1, 24)} | {2, 8, 20, 100})
            for c in cuts[: k(len(cuts))]:
                add(_file(f"truncated_{fmt}{b}_at_{c}", f"truncated_{fmt}", f"t.{fmt}", f"image/{fmt}", blob[:c]))
    magics = {"jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n", "gif": b"GIF89a",
              "webp": b"RIFF\x00\x10\x00\x00WEBPVP8 "}
    for fmt, magic in magics.items():
        for i in range(k(15)):
            add(_file(f"magic_{fmt}_{i}", "broken_header", f"m.{fmt}", f"image/{fmt}",
                      magic + random.Random(1000 + i).randbytes(rnd.randrange(1, 5000))))
    huge = [("png_20000x20000_gray", lambda: huge_png(20000, 20000, 0)),
            ("png_20000x20000_rgb", lambda: huge_png(20000, 20000, 2)),
            ("png_65535x65535_header_only", lambda: huge_png(65535, 65535, 2, with_data=False)),
            ("png_100000x1", lambda: huge_png(100000, 1, 0)),
            ("png_1x100000", lambda: huge_png(1, 100000, 0)),
            ("png_7000x6000_gray", lambda: huge_png(7000, 6000, 0)),  # 42 MP: just over the pixel limit
            ("png_0x0", lambda: huge_png(0, 0, 0, with_data=False)),
            ("jpeg_sof_65500x65500", lambda: huge_jpeg_header(65500, 65500)),
            ("jpeg_sof_30000x1", lambda: huge_jpeg_header(30000, 1)),
            ("jpeg_sof_0x0", lambda: huge_jpeg_header(0, 0)),
            ("gif_screen_65535",
             lambda: b"GIF89a\xff\xff\xff\xff\x00\x00\x00" + _encode(_picture(8, 8, 1), "GIF")[13:])]
    for name, make in huge[: k(len(huge)) if full else 3]:
        add(_file(name, "huge_dimensions", name + ".img", "image/png", make))
    big = [("body_30MB_random", "image/jpeg", lambda: random.Random(30).randbytes(30 * MB)),
           ("body_30MB_jpeg_header_then_padding", "image/jpeg", lambda: bases["jpeg"][0][:600] + bytes(30 * MB)),
           ("body_9MB_valid_png_of_noise", "image/png",
            lambda: huge_png(3000, 3000, 2)[:33] + _png_chunk(b"IDAT", random.Random(9).randbytes(9 * MB))),
           ("body_8MB_plus_1", "image/jpeg", lambda: random.Random(8).randbytes(8 * MB + 1))]
    for name, ct, make in big[: (4 if full else 1)]:
        add(_file(name, "oversize_body", name + ".jpg", ct, make))
    for fmt in ("GIF", "PNG", "WEBP"):
        for n in range(2, 2 + k(8)):
            add(_file(f"animated_{fmt.lower()}_{n}frames", "animated", f"a.{fmt.lower()}", f"image/{fmt.lower()}",
                      _animated(fmt, n, n)))
    for i, svg in enumerate(SVGS[: k(len(SVGS))]):
        for ct in ("image/svg+xml", "image/jpeg")[: k(2)]:
            add(_file(f"svg_{i}_{ct.split('/')[1]}", "svg", "x.svg", ct, svg))
    for name, (data, ct) in list(NON_IMAGES.items())[: k(len(NON_IMAGES))]:
        add(_file(f"nonimage_{name}", "non_image", f"{name}.jpg", ct, data))
        add(_file(f"nonimage_{name}_as_jpeg", "wrong_content_type", f"{name}.jpg", "image/jpeg", data))
    for fmt in OTHER_FORMATS[: k(len(OTHER_FORMATS))]:
        img = _picture(64, 64, 3, "RGB" if fmt not in ("IM",) else "L")
        add(_file(f"format_{fmt.lower()}", "unsupported_format", f"x.{fmt.lower()}", "image/jpeg", _encode(img, fmt)))
    for v in range(k(10)):
        add(_file(f"exif_bomb_{v}", "exif_bomb", "e.jpg", "image/jpeg", (lambda v=v: exif_bomb(v))))
    tiny = [("png_1x1", _encode(Image.new("RGB", (1, 1)), "PNG")),
            ("jpeg_1x1", _encode(Image.new("RGB", (1, 1)), "JPEG")),
            ("png_2x2_rgba", _encode(Image.new("RGBA", (2, 2)), "PNG")),
            ("jpeg_8x8", _encode(_picture(8, 8, 2), "JPEG")),
            ("png_16bit_gray", _encode(Image.new("I;16", (64, 64), 40000), "PNG")),
            ("jpeg_cmyk_noise", _encode(_picture(96, 96, 4).convert("CMYK"), "JPEG")),
            ("png_palette_transparent", _encode(_picture(64, 64, 5).convert("P"), "PNG", transparency=0)),
            ("webp_lossless_flat", _encode(Image.new("RGB", (64, 64), (10, 10, 10)), "WEBP", lossless=True))]
    for name, data in tiny[: k(len(tiny))]:
        add(_file(f"tiny_{name}", "no_face_image", name, "image/png", data))
    add(Case("raw_json_body", "malformed_request", raw=b'{"image": "AAAA"}', raw_type="application/json"))
    add(Case("raw_urlencoded", "malformed_request", raw=b"image=AAAA&request_id=x",
             raw_type="application/x-www-form-urlencoded"))
    add(Case("raw_text", "malformed_request", raw=b"hello", raw_type="text/plain"))
    add(Case("raw_jpeg_body", "malformed_request", raw=bases["jpeg"][0], raw_type="image/jpeg"))
    add(Case("raw_no_content_type", "malformed_request", raw=b"\x00\x01", raw_type=""))
    for i in range(k(6)):
        add(Case(f"multipart_garbage_{i}", "malformed_request", raw=_multipart_garbage(i),
                 raw_type="multipart/form-data; boundary=boundary"))
    add(Case("multipart_no_boundary", "malformed_request", raw=b"--x\r\n\r\n", raw_type="multipart/form-data"))
    add(Case("no_file_part", "malformed_request", files=[], form={"note": "no photo"}))
    png = bases["png"][3]
    add(Case("six_bad_files", "too_many_files", files=[(f"f{i}.png", "image/png", b"nope") for i in range(6)]))
    add(Case("ten_files", "too_many_files", files=[(f"f{i}.png", "image/png", png[:50]) for i in range(10)]))
    for i, fn in enumerate(["../../etc/passwd", "a" * 1000 + ".jpg", "..\\..\\boot.ini", "x\u202egpj.exe", "",
                            "%00.jpg", "ümlaut face.jpg"][: k(7)]):
        add(_file(f"filename_{i}", "hostile_filename", fn, "image/jpeg", b"not an image " + bytes([i])))
    return cases


def summary(cases: list[Case]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in cases:
        out[c.category] = out.get(c.category, 0) + 1
    return out


if __name__ == "__main__":
    import json

    cs = build()
    print(json.dumps({"cases": len(cs), "by_category": summary(cs)}, indent=2))
