"""The face runtime as FastAPI dependencies (the only way routes reach the engine and the gallery):

    rt: FaceRuntimeDep    the app's FaceRuntime (server/faces/runtime.py), engine loaded or not (/status, kiosk replay)
    rt: EngineDep         the same, with its engine loaded, else 503 model_weights_missing
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.faces.runtime import FaceRuntime


def get_runtime(request: Request) -> FaceRuntime:
    return request.app.state.faces


def get_ready_runtime(request: Request) -> FaceRuntime:
    rt = get_runtime(request)
    rt.require_engine()
    return rt


FaceRuntimeDep = Annotated[FaceRuntime, Depends(get_runtime)]
EngineDep = Annotated[FaceRuntime, Depends(get_ready_runtime)]
