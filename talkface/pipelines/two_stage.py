"""Two-stage talking head: audio -> canonical landmark motion (AT-net) -> warp-rendered frames.

    pipe = TwoStagePipeline.from_pretrained("atnet-grid")
    video = pipe("face.jpg", "speech.wav")       # Video; frames render lazily
    video.save("out.mp4")

Each step is public for research use: prepare_face(), motion(), render().
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from talkface.errors import TalkfaceError
from talkface.face.align import (
    FaceCrop,
    PasteBack,
    crop_face,
    mean_face,
    native_crop_size,
    paste_mask,
    to_canonical,
)
from talkface.face.landmarks import JAW, MOUTH
from talkface.features.align import (
    SAMPLE_RATE,
    feature_windows,
    frame_to_feature_index,
    n_video_frames,
)
from talkface.features.audio import speech_features
from talkface.io.audio import is_silent, load_audio
from talkface.io.image import load_image
from talkface.models.audio2landmark import AudioToLandmark
from talkface.motion.blinks import DEFAULT_RATE, close_eyelids, sample_blinks
from talkface.motion.retarget import retarget
from talkface.types import Motion, Video

# The AT-net also predicts the training speaker's brow habits; until the motion issue models
# brows and head per person, only the lower jaw (below the ears) and the lips follow speech.
SPEECH_POINTS = np.concatenate([JAW[4:13], MOUTH])
# Regression to the mean makes the AT-net under-articulate voices it never heard; 1.3 was
# chosen on GRID val (docs/results.md).
DEFAULT_MOTION_SCALE = 1.3
# frames this far below the utterance's loudest are silence: lips at rest
SILENCE_DB = 45.0
SILENCE_SOFTNESS_DB = 6.0


@dataclass(frozen=True)
class GenerateOptions:
    """What a user can choose for one generation."""

    fps: float = 25.0  # output frame rate
    seed: int | None = None  # makes blinks (and any sampling) reproducible
    face: int = 0  # which detected face to animate, 0 = the largest
    blink_rate: float = DEFAULT_RATE  # blinks per second; 0 disables blinking
    # face crop size in pixels; None = the face's own resolution
    crop_size: int | None = None
    motion_scale: float = DEFAULT_MOTION_SCALE  # multiplies lip and jaw motion

    def __post_init__(self):
        if not 1 <= self.fps <= 120:
            raise TalkfaceError(f"fps must be between 1 and 120, got {self.fps}")
        if self.face < 0:
            raise TalkfaceError(f"face index must be >= 0, got {self.face}")
        if not 0 <= self.blink_rate <= 3:
            raise TalkfaceError(
                f"blink rate must be between 0 and 3 per second, got {self.blink_rate}"
            )
        if not 0 <= self.motion_scale <= 3:
            raise TalkfaceError(
                f"motion scale must be between 0 and 3, got {self.motion_scale}"
            )
        if self.crop_size is not None and not 64 <= self.crop_size <= 1024:
            raise TalkfaceError(
                f"crop size must be between 64 and 1024, got {self.crop_size}"
            )


@dataclass(frozen=True)
class PreparedFace:
    """The photo (padded to even size) and its aligned crop."""

    photo: np.ndarray  # (H, W, 3) uint8, H and W even
    crop: FaceCrop
    landmarks: np.ndarray  # (68, 2) in photo pixels


class TwoStagePipeline:
    def __init__(self, motion_model: AudioToLandmark):
        self.motion_model = motion_model.eval()

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path = "atnet-grid"
    ) -> TwoStagePipeline:
        from talkface.weights import load_model, load_weights

        return cls(load_model(load_weights(name_or_path)))

    def to(self, device: str | torch.device) -> TwoStagePipeline:
        self.motion_model.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.motion_model.parameters()).device

    # -- steps -------------------------------------------------------------------------------

    def prepare_face(
        self,
        image: str | Path | np.ndarray,
        face: int = 0,
        crop_size: int | None = None,
    ) -> PreparedFace:
        """Detect the face, find its 68 landmarks and cut the aligned crop."""
        from talkface.face.detect import detect_faces
        from talkface.face.landmarks import detect_landmarks

        photo = _even_size(load_image(image))
        boxes = detect_faces(photo)
        name = image if not isinstance(image, np.ndarray) else "the image"
        if not boxes:
            raise TalkfaceError(f"no face found in {name}")
        if face >= len(boxes):
            raise TalkfaceError(
                f"face {face} requested but only {len(boxes)} face(s) found in {name}"
            )
        landmarks = detect_landmarks(photo, boxes[face])
        size = crop_size or native_crop_size(landmarks)
        return PreparedFace(photo, crop_face(photo, landmarks, size), landmarks)

    @torch.no_grad()
    def motion(
        self,
        wav: np.ndarray,
        face: PreparedFace,
        fps: float,
        blink_rate: float,
        rng: np.random.Generator,
        motion_scale: float = DEFAULT_MOTION_SCALE,
    ) -> Motion:
        """Canonical displacements from speech, lips at rest in silence, plus sampled blinks."""
        n_frames = n_video_frames(len(wav), fps)
        blink = sample_blinks(n_frames, fps, blink_rate, rng)
        if is_silent(wav):
            return Motion(np.zeros((n_frames, 68, 2), np.float32), blink, fps)
        mfcc, energy = speech_features(wav)
        windows = torch.from_numpy(feature_windows(mfcc.numpy(), n_frames, fps))[
            None
        ].to(self.device)
        shape = to_canonical(face.crop.landmarks) - mean_face()
        identity = self.motion_model.project(torch.from_numpy(shape).to(self.device))[
            None
        ]
        predicted, _ = self.motion_model(windows, identity)
        predicted = predicted[0].cpu().numpy()
        displacements = np.zeros_like(predicted)
        displacements[:, SPEECH_POINTS] = predicted[:, SPEECH_POINTS]
        displacements *= (
            motion_scale * _speech_gate(energy.numpy(), n_frames, fps)[:, None, None]
        )
        return Motion(displacements.astype(np.float32), blink, fps)

    def render(self, face: PreparedFace, motion: Motion):
        """A function: frame index -> (H, W, 3) uint8 photo frame with the face animated."""
        from talkface.render.warp import WarpRenderer

        targets = close_eyelids(
            retarget(motion.displacements, face.crop.landmarks), motion.blink
        )
        renderer = WarpRenderer(face.crop)
        mask = paste_mask(
            np.concatenate([targets.reshape(-1, 2), face.crop.landmarks]),
            face.crop.size,
        )
        paste = PasteBack(face.photo, face.crop.to_crop, mask)
        return lambda i: paste(renderer(targets[i]))

    # -- the one call ------------------------------------------------------------------------

    def __call__(
        self, image, audio, options: GenerateOptions | None = None, **overrides
    ) -> Video:
        """Animate the face in `image` (path or (H, W, 3) uint8 RGB) with speech `audio`
        (path of any audio/video file, or (N,) float32 mono at 16 kHz). Returns a Video whose
        frames render on demand at the photo's resolution (padded to even size)."""
        # 1. Check inputs
        options = options or GenerateOptions()
        if overrides:
            options = dataclasses.replace(options, **overrides)
        rng = np.random.default_rng(options.seed)
        wav = load_audio(audio, SAMPLE_RATE)
        # 2. Prepare face
        face = self.prepare_face(image, options.face, options.crop_size)
        # 3-4. Audio features and motion
        motion = self.motion(
            wav, face, options.fps, options.blink_rate, rng, options.motion_scale
        )
        # 5-6. Render frames and paste them back into the photo
        render_frame = self.render(face, motion)
        h, w = face.photo.shape[:2]
        return Video(render_frame, len(motion), options.fps, wav, SAMPLE_RATE, h, w)


def _even_size(photo: np.ndarray) -> np.ndarray:
    """Pad to even height and width (H.264 yuv420p needs them) by repeating the last row/col."""
    h, w = photo.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return photo
    return np.pad(photo, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _speech_gate(log_energy: np.ndarray, n_frames: int, fps: float) -> np.ndarray:
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
