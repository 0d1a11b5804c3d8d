"""talkface: one face photo + one speech recording -> a talking-head video.

    import talkface
    video = talkface.generate("me.jpg", "hello.m4a")
    video.save("out.mp4")

Heavy dependencies (torch, dlib, PyAV) load on first use, so `import talkface` stays light.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from talkface.pipelines.two_stage import TwoStagePipeline
    from talkface.types import Video

_PIPELINES: dict = {}


def available_models() -> list[str]:
    """Names of the models shipped inside the package."""
    from talkface.registry import available_models as names

    return names()


def load_pipeline(model: str | None = None, renderer: str = "warp") -> TwoStagePipeline:
    """The inference pipeline of a shipped motion model (default: the best measured) or a
    checkpoint path, with the warp renderer or a texture generator (name or checkpoint path)."""
    from talkface.errors import TalkfaceError
    from talkface.pipelines.two_stage import TwoStagePipeline
    from talkface.registry import COMPONENTS, DEFAULT_MODEL, EVALUATORS

    model = model or DEFAULT_MODEL
    if model in EVALUATORS or model in COMPONENTS:
        raise TalkfaceError(
            f"{model} is not a speech -> motion model; choose from {available_models()}"
        )
    if (model, renderer) not in _PIPELINES:
        _PIPELINES[model, renderer] = TwoStagePipeline.from_pretrained(model, renderer)
    return _PIPELINES[model, renderer]


def generate(
    image, audio, *, model: str | None = None, renderer: str = "warp", **options
) -> Video:
    """Animate the face in `image` with the speech in `audio`.

    Args:
        image: photo path (JPEG/PNG/WebP/BMP, ...) or (H, W, 3) uint8 RGB array.
        audio: path of any audio file or video with sound, or (N,) float32 mono at 16 kHz.
        model: a name from available_models() or a checkpoint path; None = the default.
        renderer: "warp" or a texture generator (shipped name or checkpoint path).
        **options: fields of GenerateOptions: fps, seed, face, blink_rate, head_motion,
            crop_size, motion_scale.
    Returns:
        Video: frames at the photo's resolution (rendered on demand) with the audio; .save(path).
    """
    return load_pipeline(model, renderer)(image, audio, **options)


def sample_paths() -> tuple[str, str]:
    """Paths of the bundled sample face photo and speech recording."""
    assets = resources.files("talkface.assets")
    return str(assets.joinpath("sample_face.jpg")), str(
        assets.joinpath("sample_speech.wav")
    )
