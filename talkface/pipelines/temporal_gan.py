"""End-to-end talking head (Vougioukas et al.): the still face and raw speech -> frames, with no
landmarks or motion stage; blinks and brows come from the generator's noise.

    pipe = TemporalGANPipeline.from_pretrained("temporal-gan-grid")
    video = pipe("face.jpg", "speech.wav", seed=0)
    video.save("out.mp4")

The generator works on 128 px aligned crops; each generated crop is resized to the photo's own
face size and pasted back into the photo. Frames are generated in order with the GRU states
carried (render.temporal_gan.GANFrames), so they stream.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from talkface.errors import TalkfaceError
from talkface.face.align import PasteBack, crop_face, paste_mask
from talkface.face.prepare import PreparedFace, prepare_face
from talkface.features.align import SAMPLE_RATE
from talkface.io.audio import load_audio
from talkface.models.vougioukas import TemporalGenerator
from talkface.pipelines.options import GenerateOptions
from talkface.render.temporal_gan import GANFrames
from talkface.types import Video

DEBUG_GAIN = 4  # the debug view's motion map: |frame - still| x this


class TemporalGANPipeline:
    def __init__(self, model: TemporalGenerator):
        self.model = model.eval()

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path) -> TemporalGANPipeline:
        from talkface.weights import load_model, load_weights

        model = load_model(load_weights(name_or_path))
        if not isinstance(model, TemporalGenerator):
            raise TalkfaceError(f"{name_or_path} is not a temporal GAN generator")
        return cls(model)

    def to(self, device: str | torch.device) -> TemporalGANPipeline:
        self.model.to(device)
        return self

    prepare_face = staticmethod(prepare_face)

    def still(self, face: PreparedFace) -> np.ndarray:
        """The photo's face as the generator's (S, S, 3) input crop."""
        return crop_face(face.photo, face.landmarks, self.model.config.size).image

    def frames(
        self, face: PreparedFace, wav: np.ndarray, options: GenerateOptions
    ) -> GANFrames:
        """Frame index -> (S, S, 3) uint8 generated crop at the model's size."""
        return GANFrames(
            self.model,
            self.still(face),
            wav,
            options.fps,
            options.random_generator(),
        )

    def render(self, face: PreparedFace, frames: GANFrames, debug: bool = False):
        """A function: frame index -> (H, W, 3) uint8 photo frame with the generated face
        pasted in (with `debug`: still | generated crop | motion map, at the model's size)."""
        import cv2

        if debug:
            still = frames.still

            def panel(i: int) -> np.ndarray:
                frame = frames(i)
                motion = np.abs(frame.astype(np.int16) - still).max(-1)
                heat = np.clip(motion * DEBUG_GAIN, 0, 255).astype(np.uint8)
                heat = cv2.applyColorMap(heat, cv2.COLORMAP_INFERNO)[..., ::-1]
                return np.concatenate([still, frame, heat], 1)

            return panel
        paste = self.paste(face)
        return lambda i: paste(frames(i))

    @staticmethod
    def paste(face: PreparedFace):
        """A function: (S, S, 3) generated crop -> (H, W, 3) uint8 photo frame, the crop
        resized to the photo's face size and pasted in."""
        import cv2

        size = face.crop.size
        paste = PasteBack(
            face.photo, face.crop.to_crop, paste_mask(face.crop.landmarks, size)
        )
        return lambda crop: paste(
            cv2.resize(crop, (size, size), interpolation=cv2.INTER_CUBIC)
        )

    @staticmethod
    def check_options(options: GenerateOptions) -> None:
        """Refuse what the temporal GAN cannot do (it has no motion stage)."""
        if options.blink_rate is not None:
            raise TalkfaceError(
                "the temporal GAN has no blink control: its blinks come from its noise"
            )

    def __call__(
        self,
        image,
        audio,
        options: GenerateOptions | None = None,
        motion=None,
        **overrides,
    ) -> Video:
        """Animate the face in `image` (path or (H, W, 3) uint8 RGB) with speech `audio`
        (path of any audio/video file, or (N,) float32 mono at 16 kHz)."""
        # 1. Check inputs
        options = options or GenerateOptions()
        if overrides:
            options = dataclasses.replace(options, **overrides)
        if motion is not None:
            raise TalkfaceError(
                "the temporal GAN makes frames from audio directly: it cannot render a motion file"
            )
        self.check_options(options)
        wav = load_audio(audio, SAMPLE_RATE)
        # 2. Prepare face
        face = self.prepare_face(image, options.face, options.crop_size)
        # 3. Generate crops from the still and the audio
        frames = self.frames(face, wav, options)
        # 4. Paste them back into the photo
        render_frame = self.render(face, frames, options.debug)
        h, w = render_frame(0).shape[:2] if options.debug else face.photo.shape[:2]
        return Video(render_frame, len(frames), options.fps, wav, SAMPLE_RATE, h, w)
