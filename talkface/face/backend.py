"""dlib models, loaded lazily once per process and located by file path.

The model files come from the `face-recognition-models` wheel. Its `__init__` imports
`pkg_resources` (gone from setuptools>=81), so the files are found with `find_spec`, which does
not run the package.
"""

from __future__ import annotations

import functools
import importlib.util
import os

from talkface.errors import TalkfaceError


def dlib_model_path(filename: str) -> str:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise TalkfaceError(
            "dlib model files missing: pip install face-recognition-models"
        )
    path = os.path.join(spec.submodule_search_locations[0], "models", filename)
    if not os.path.exists(path):
        raise TalkfaceError(f"dlib model file missing: {path}")
    return path


def dlib_module():
    try:
        import dlib
    except ImportError:
        raise TalkfaceError("dlib is missing: pip install dlib-bin") from None
    return dlib


@functools.cache
def face_detector():
    """dlib's HOG frontal face detector."""
    return dlib_module().get_frontal_face_detector()


@functools.cache
def shape_predictor():
    """dlib's 68-point iBUG 300-W landmark predictor."""
    return dlib_module().shape_predictor(
        dlib_model_path("shape_predictor_68_face_landmarks.dat")
    )


@functools.cache
def face_encoder():
    """dlib's ResNet 128-d face descriptor."""
    return dlib_module().face_recognition_model_v1(
        dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")
    )
