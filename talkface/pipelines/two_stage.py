"""Two-stage talking head: speech -> motion (landmarks, eyelids, head pose) -> warp-rendered
frames pasted back into the photo.

    pipe = TwoStagePipeline.from_pretrained("atnet-grid")   # or "sinha-grid", "dirfa-grid"
    video = pipe("face.jpg", "speech.wav")                   # Video; frames render lazily
    video.save("out.mp4")

The motion model is one of the papers' speech -> motion networks: the ATVGnet AT-net or Sinha
et al.'s landmark network (lips and jaw; blinks and brows then come from Sinha et al.'s learned
blink generator, the head stays still), or DIRFA (lips, jaw, brows, blinks and head pose, sampled:
each seed gives other brows, blinks and head motion over the same lip sync).

Each step is public for research use: prepare_face(), motion(), render().
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from talkface.errors import TalkfaceError
from talkface.face.align import PasteBack, apply_affine, invert_affine, paste_mask
from talkface.face.prepare import PreparedFace, prepare_face
from talkface.features.align import (
    SAMPLE_RATE,
    feature_windows,
    frame_to_feature_index,
    n_video_frames,
)
from talkface.features.audio import speech_features
from talkface.io.audio import is_silent, load_audio
from talkface.models.atvgnet import VGNet
from talkface.models.sinha import BlinkGenerator, TextureGenerator
from talkface.motion.blinks import close_eyelids
from talkface.motion.idle import idle_motion
from talkface.motion.params import apply_head_pose
from talkface.motion.retarget import retarget
from talkface.motion.stage import MotionStage
from talkface.pipelines.options import GenerateOptions
from talkface.types import Motion, Video

MIN_IDLE_SECONDS, MAX_IDLE_SECONDS = 1.0, 600.0
# frames this far below the utterance's loudest are silence: lips at rest
SILENCE_DB = 45.0
SILENCE_SOFTNESS_DB = 6.0


class TwoStagePipeline:
    def __init__(
        self,
        motion_model: torch.nn.Module,
        blink_model: BlinkGenerator,
        renderer_model: TextureGenerator | VGNet | None = None,
    ):
        self.motion_model = motion_model.eval()
        self.blink_model = blink_model.eval()
        self.renderer_model = None if renderer_model is None else renderer_model.eval()

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path = "atnet-grid", renderer: str | Path = "warp"
    ) -> TwoStagePipeline:
        """A shipped motion model by name (or a checkpoint path), with the shipped blinks, and
        the warp renderer or a neural one (shipped name or checkpoint path)."""
        from talkface.registry import BLINK_MODEL, RENDERERS
        from talkface.weights import load_model, load_weights

        motion_model = load_model(load_weights(name_or_path))
        if isinstance(motion_model, BlinkGenerator) or not hasattr(
            motion_model.config, "features"
        ):
            raise TalkfaceError(f"{name_or_path} is not a speech -> motion model")
        renderer_model = None
        if str(renderer) != "warp":
            renderer_model = load_model(load_weights(RENDERERS.get(renderer, renderer)))
            if not isinstance(renderer_model, (TextureGenerator, VGNet)):
                raise TalkfaceError(f"{renderer} is not a landmark -> frame renderer")
        return cls(motion_model, load_model(load_weights(BLINK_MODEL)), renderer_model)

    def to(self, device: str | torch.device) -> TwoStagePipeline:
        self.motion_model.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.motion_model.parameters()).device

    # -- steps -------------------------------------------------------------------------------

    prepare_face = staticmethod(prepare_face)

    def motion_stage(
        self, options: GenerateOptions, blink_block: int | None = None
    ) -> MotionStage:
        """The motion stage for these options, seeded (motion.stage: windows -> Motion)."""
        generator = options.random_generator()
        return MotionStage(
            self.motion_model,
            self.blink_model,
            options.fps,
            generator,
            options.blink_rate,
            options.head_motion,
            options.motion_scale,
            blink_block,
        )

    def motion(
        self, wav: np.ndarray, face: PreparedFace, options: GenerateOptions
    ) -> Motion:
        """Canonical displacements, eyelid closure and head pose for every video frame."""
        fps = options.fps
        n_frames = n_video_frames(len(wav), fps)
        # 1. Speech features, one window per frame, and where the speech is
        features, energy = speech_features(wav, kind=self.motion_model.config.features)
        windows = torch.from_numpy(
            feature_windows(
                features.numpy(), n_frames, fps, self.motion_model.config.context
            )
        ).to(self.device)
        gate = (
            np.zeros(n_frames)
            if is_silent(wav)
            else speech_gate(energy.numpy(), n_frames, fps)
        )
        # 2. Motion: lips and jaw from speech, blinks, brows and head from the models
        return self.motion_stage(options)(windows, gate)

    @staticmethod
    def target_landmarks(face: PreparedFace, motion: Motion) -> np.ndarray:
        """(T, 68, 2) landmarks in crop pixels the renderer draws: the motion retargeted to
        this face, eyelids closed by the blink track, the head moved by the pose."""
        targets = close_eyelids(
            retarget(motion.displacements, face.crop.landmarks), motion.blink
        )
        return apply_head_pose(targets, motion.pose, face.crop.size)

    def render(self, face: PreparedFace, motion: Motion, debug: bool = False):
        """A function: frame index -> (H, W, 3) uint8 photo frame with the face animated (with
        `debug`: the renderer's debug panels of the crop instead, render.debug)."""
        from talkface.render.debug import debug_panel
        from talkface.render.neural import InOrder, NeuralRenderer
        from talkface.render.warp import WarpRenderer

        targets = self.target_landmarks(face, motion)
        if self.renderer_model is None:
            renderer, reset = WarpRenderer(face.crop), None
        else:
            renderer = NeuralRenderer(face.crop, self.renderer_model)
            reset = renderer.reset if renderer.stateful else None
        if debug:
            return InOrder(lambda lm: debug_panel(renderer, lm), targets, reset)
        crop_frame = InOrder(renderer, targets, reset)
        mask = paste_mask(
            np.concatenate([targets.reshape(-1, 2), face.crop.landmarks]),
            face.crop.size,
        )
        paste = PasteBack(face.photo, face.crop.to_crop, mask)
        return lambda i: paste(crop_frame(i))

    def idle(
        self, image, seconds: float, options: GenerateOptions | None = None, **overrides
    ) -> Video:
        """A listening loop of `seconds` with silent audio: mouth at rest, learned blinks and
        brows, a slow head sway (scaled by head_motion); its last frame flows into its first,
        so it can repeat between utterances."""
        options = options or GenerateOptions()
        if overrides:
            options = dataclasses.replace(options, **overrides)
        if not MIN_IDLE_SECONDS <= seconds <= MAX_IDLE_SECONDS:
            raise TalkfaceError(
                f"idle length must be {MIN_IDLE_SECONDS}-{MAX_IDLE_SECONDS} s, got {seconds}"
            )
        silence = np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32)
        generator = options.random_generator()
        motion = idle_motion(
            self.blink_model,
            n_video_frames(len(silence), options.fps),
            options.fps,
            options.blink_rate,
            options.head_motion,
            generator,
        )
        return self(image, silence, options, motion=motion)

    # -- the one call ------------------------------------------------------------------------

    def __call__(
        self,
        image,
        audio,
        options: GenerateOptions | None = None,
        motion: Motion | None = None,
        **overrides,
    ) -> Video:
        """Animate the face in `image` (path or (H, W, 3) uint8 RGB) with speech `audio`
        (path of any audio/video file, or (N,) float32 mono at 16 kHz). Returns a Video whose
        frames render on demand at the photo's resolution (padded to even size), with the
        motion it shows (`.motion`, `.landmarks` in photo pixels).

        `motion` (e.g. io.motion.load_motion of an edited export) is rendered as given instead
        of the motion model's, at its own frame rate."""
        # 1. Check inputs
        options = options or GenerateOptions()
        if overrides:
            options = dataclasses.replace(options, **overrides)
        if motion is not None:
            options = dataclasses.replace(options, fps=motion.fps)
        wav = load_audio(audio, SAMPLE_RATE)
        # 2. Prepare face
        face = self.prepare_face(image, options.face, options.crop_size)
        # 3-4. Audio features and motion
        if motion is None:
            motion = self.motion(wav, face, options)
        # 5-6. Render frames and paste them back into the photo
        render_frame = self.render(face, motion, options.debug)
        h, w = render_frame(0).shape[:2] if options.debug else face.photo.shape[:2]
        landmarks = apply_affine(
            invert_affine(face.crop.to_crop), self.target_landmarks(face, motion)
        )
        return Video(
            render_frame, len(motion), options.fps, wav, SAMPLE_RATE, h, w,
            motion=motion, landmarks=landmarks,
        )  # fmt: skip


def speech_gate(log_energy: np.ndarray, n_frames: int, fps: float) -> np.ndarray:
    """(n_frames,) weight in [0, 1]: ~1 where there is speech, falling to 0 in silence."""
    from scipy.ndimage import maximum_filter1d

    db = 10 * log_energy / np.log(10)
    # a frame speaks if any audio within +-40 ms does: lips move around short pauses too
    db = maximum_filter1d(db, size=9)
    per_frame = db[
        np.clip(frame_to_feature_index(np.arange(n_frames), fps), 0, len(db) - 1)
    ]
    # the loudest few frames set the reference level (robust to a single click)
    level = np.percentile(db, 98)
    return 1 / (
        1 + np.exp(-(per_frame - (level - SILENCE_DB)) / SILENCE_SOFTNESS_DB * 4)
    )
