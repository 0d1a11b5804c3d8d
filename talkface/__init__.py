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
    from talkface.types import Video

_PIPELINES: dict = {}


def available_models() -> list[str]:
    """Names of the models shipped inside the package."""
    from talkface.registry import available_models as names

    return names()


def load_pipeline(model: str | None = None, renderer: str = "warp"):
    """The inference pipeline of a shipped model (default: the best measured) or a checkpoint
    path: a TwoStagePipeline (speech -> motion -> frames, with the warp renderer or a neural
    one, by name or checkpoint path) or, for a temporal GAN, a TemporalGANPipeline."""
    from talkface.errors import TalkfaceError
    from talkface.registry import (
        COMPONENTS,
        DEFAULT_MODEL,
        EVALUATORS,
        MODEL_ALIASES,
        RENDERER_MODELS,
    )

    model = MODEL_ALIASES.get(model, model) or DEFAULT_MODEL
    if model in EVALUATORS or model in COMPONENTS or model in RENDERER_MODELS:
        raise TalkfaceError(
            f"{model} is not a speech -> motion model; choose from {available_models()}"
        )
    if (model, renderer) not in _PIPELINES:
        _PIPELINES[model, renderer] = _build_pipeline(model, renderer)
    return _PIPELINES[model, renderer]


def _build_pipeline(model: str, renderer: str):
    from talkface.errors import TalkfaceError
    from talkface.pipelines.temporal_gan import TemporalGANPipeline
    from talkface.pipelines.two_stage import TwoStagePipeline
    from talkface.weights import load_model, load_weights

    checkpoint = load_weights(model)
    if checkpoint.get("architecture") != "TemporalGenerator":
        return TwoStagePipeline.from_pretrained(model, renderer)
    if str(renderer) != "warp":
        raise TalkfaceError(
            "the temporal GAN draws whole frames itself: --renderer does not apply"
        )
    return TemporalGANPipeline(load_model(checkpoint))


def generate(
    image,
    audio,
    *,
    model: str | None = None,
    renderer: str = "warp",
    motion=None,
    **options,
) -> Video:
    """Animate the face in `image` with the speech in `audio`.

    Args:
        image: photo path (JPEG/PNG/WebP/BMP, ...) or (H, W, 3) uint8 RGB array.
        audio: path of any audio file or video with sound, or (N,) float32 mono at 16 kHz.
        model: a name from available_models() (or "temporal-gan") or a checkpoint path;
            None = the default.
        renderer: "warp" or a neural renderer (shipped name or checkpoint path); landmark
            models only (the temporal GAN draws its own frames).
        motion: a Motion to render instead of predicting one (talkface.io.motion.load_motion
            reads an exported, perhaps edited, motion file); its frame rate is the video's.
        **options: fields of GenerateOptions: fps, seed, face, blink_rate, head_motion,
            crop_size, motion_scale.
    Returns:
        Video: frames at the photo's resolution (rendered on demand) with the audio; .save(path);
            .motion and .landmarks hold what a motion stage decided.
    """
    return load_pipeline(model, renderer)(image, audio, motion=motion, **options)


def idle(image, seconds: float, *, renderer: str = "warp", **options) -> Video:
    """A listening loop of `seconds` (silent): mouth at rest, blinks, brows and a slow head
    sway; the last frame flows into the first, to play between utterances. `options` as for
    generate() (seed, blink_rate, head_motion, fps, face, crop_size)."""
    from talkface.registry import DEFAULT_MODEL

    return load_pipeline(DEFAULT_MODEL, renderer).idle(image, seconds, **options)


def sample_paths() -> tuple[str, str]:
    """Paths of the bundled sample face photo and speech recording."""
    assets = resources.files("talkface.assets")
    return str(assets.joinpath("sample_face.jpg")), str(
        assets.joinpath("sample_speech.wav")
    )
