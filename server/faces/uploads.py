"""The one upload dependency of the routes that read photos (enrollment, face login, kiosk check, verify, identify).

    frames: Annotated[list[bytes], Depends(Photos("login", "image", many="images"))]

declares the multipart fields (each named single file, and/or a list field), reads every photo up to UPLOAD_MAX_BYTES
(413 image_too_large with `image_index`, the rest of that photo never read) and checks the count against
PHOTOS_PER_REQUEST[purpose] (server/faces/images.py: the same table sets the route's body limit), answering 422
validation_error with the route's own message otherwise. The endpoint gets the photos' bytes, in order.
"""
from __future__ import annotations

import inspect
from collections.abc import Sequence

from fastapi import File, UploadFile

from server.config import Settings
from server.deps import SettingsDep
from server.errors import AppError, ValidationFailed
from server.faces.images import PHOTOS_PER_REQUEST, read_limited


def read_photos(uploads: Sequence[UploadFile | bytes], max_bytes: int) -> list[bytes]:
    """Each upload read up to max_bytes; the one that is too large raises 413 with its `image_index`."""
    out = []
    for i, upload in enumerate(uploads):
        try:
            out.append(read_limited(upload, max_bytes))
        except AppError as exc:
            exc.details = {**exc.details, "image_index": i}  # a position (0-based); people count from 1:
            if len(uploads) > 1:
                exc.message = f"Photo {i + 1} of {len(uploads)}: {exc.message}"
            raise
    return out


class Photos:
    """Dependency: the photos of a `purpose` (see the module doc).

    `names`: single-file fields, in order (required unless `many` is given too); `many`: a field taking several
    files (required when there are no `names`); `least`: fewest photos (0: the endpoint decides, e.g. a kiosk replay
    needs none); `most`: more than PHOTOS_PER_REQUEST[purpose] in the same body limit (the camera frames of a
    liveness challenge; the endpoint checks the count without one); `message`/`field`: the 422 when the count is
    wrong.
    """

    def __init__(self, purpose: str, *names: str, many: str | None = None, least: int = 1,
                 message: str | None = None, field: str | None = None, most: int | None = None):
        self.purpose, self.names, self.many, self.least = purpose, names, many, least
        self.most = most or PHOTOS_PER_REQUEST[purpose]
        self.field = field or many or names[0]
        self.message = message or f"Send {least} to {self.most} photos"
        params = [inspect.Parameter("settings", inspect.Parameter.KEYWORD_ONLY, annotation=SettingsDep)]
        for name in names:
            optional = many is not None
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                            default=File(None) if optional else File(...),
                                            annotation=UploadFile | None if optional else UploadFile))
        if many is not None:
            optional = bool(names)
            params.append(inspect.Parameter(many, inspect.Parameter.KEYWORD_ONLY,
                                            default=File(None) if optional else File(...),
                                            annotation=list[UploadFile] | None if optional else list[UploadFile]))
        self.__signature__ = inspect.Signature(params, return_annotation=list[bytes])

    def __call__(self, *, settings: Settings, **fields: UploadFile | list[UploadFile] | None) -> list[bytes]:
        uploads = [fields[n] for n in self.names if fields.get(n) is not None]
        if self.many is not None:
            uploads += list(fields.get(self.many) or [])
        if not self.least <= len(uploads) <= self.most:
            raise ValidationFailed(self.message, field=self.field)
        return read_photos(uploads, settings.upload_max_bytes)
