"""The motion stage as a stream: speech windows in, Motion out, every model's memory carried.

The file pipeline feeds all windows at once; streaming feeds them as audio arrives. Either way
the same code decides each frame:
- AT-net or Sinha et al.'s network move lips and jaw (the AT-net's LSTM state carries over);
  the blink generator gives blinks and brows; the head sways slowly (motion.sway).
- DIRFA samples lips, jaw, brows, blinks and head pose autoregressively (its last tau windows
  and animations carry over). Two rollouts: lips and jaw from one that takes each bin
  distribution's expected value, shared by every seed (a sampled history drifts the lips with
  the seed's blinks and head: opening correlation between seeds 0.26-0.82), everything else
  from the sampled one. GRID's near-still heads taught it little head motion (0.3 deg of yaw
  differs across seeds), so the same seeded sway joins its pose: each seed turns the head its
  own way.
Lips and jaw are scaled by motion_scale and rest where the gate (speech activity) is 0; head
motion (DIRFA's plus the sway) is scaled by head_motion.
"""

from __future__ import annotations

import numpy as np
import torch

from talkface.face.landmarks import BROWS, JAW, MOUTH
from talkface.models.atvgnet import AudioToLandmark
from talkface.models.dirfa import DEFAULT_TOP_K, DIRFA, Sampler, top_k_per_parameter
from talkface.models.sinha import EYE_REGION, BlinkGenerator
from talkface.motion.blinks import blink_motion
from talkface.motion.params import load_motion_basis
from talkface.motion.sway import HeadSway
from talkface.types import Motion

# The landmark regressors also predict the training speaker's brow habits; only the lower jaw
# (below the ears) and the lips follow speech. Brows come from the blink generator (or DIRFA).
SPEECH_POINTS = np.concatenate([JAW[4:13], MOUTH])
BROW_POINTS = np.isin(EYE_REGION, BROWS)


class MotionStage:
    """Speech windows -> Motion, chunk after chunk (see the module docstring).

    `blink_block`: frames of blinks generated at a time; None = exactly as many as the first
    call asks for (the file pipeline's single call)."""

    def __init__(
        self,
        model: torch.nn.Module,
        blink_model: BlinkGenerator,
        fps: float,
        generator: torch.Generator,
        blink_rate: float | None = None,
        head_motion: float = 1.0,
        motion_scale: float = 1.0,
        blink_block: int | None = None,
    ):
        self.model, self.blink_model, self.fps = model, blink_model, fps
        self.generator, self.blink_rate = generator, blink_rate
        self.head_motion, self.motion_scale = head_motion, motion_scale
        self.blink_block = blink_block
        self.eyes = np.zeros((0, len(EYE_REGION), 2), np.float32)
        self.closure = np.zeros(0, np.float32)
        self.frames = 0  # frames decided so far
        self.state = None
        self.identity = None
        if isinstance(model, AudioToLandmark):
            # The AT-net saw one face in training, with its identity input dropped half the
            # time: the dropped-out (zero) identity generalises better to new faces (s31
            # opening correlation 0.772 -> 0.788 in canonical space, and lips that close for
            # p/b/m on synthetic speech; docs/results.md), so that is what it gets.
            identity = torch.zeros(1, model.config.n_components)
            self.identity = identity.to(next(model.parameters()).device)
        if isinstance(model, DIRFA):
            top_k = top_k_per_parameter(model.config, **DEFAULT_TOP_K)
            self.sampled = Sampler(model, top_k, generator=generator)
            self.lips = Sampler(model, None)  # expected values: see Sampler
            self.basis = load_motion_basis()
        self.sway = HeadSway(fps, generator)

    @torch.no_grad()
    def __call__(self, windows: torch.Tensor, gate: np.ndarray) -> Motion:
        """(N, context, D) speech windows of the next N frames and their (N,) speech gate in
        [0, 1] -> their Motion."""
        n = len(windows)
        displacements = np.zeros((n, 68, 2), np.float32)
        pose = self.sway(n)  # its own random stream: it never shifts blinks or sampling
        if isinstance(self.model, DIRFA):
            k = self.model.config.n_coefficients
            sampled = self.sampled(windows).numpy()
            lips = self.lips(windows).numpy()
            speech = self.basis.decode(lips[:, :k])
            displacements[:, BROWS] = self.basis.decode(sampled[:, :k])[:, BROWS]
            closure = np.clip(sampled[:, k], 0, 1)
            pose = pose + sampled[:, k + 1 :]
            if (
                self.blink_rate is not None
            ):  # a rate asked for: the blink generator's lids
                closure = self._blinks(n)[1]
        else:
            speech, self.state = self.model(windows[None], self.identity, self.state)
            speech = speech[0].cpu().numpy()
            eyes, closure = self._blinks(n)
            displacements[:, EYE_REGION[BROW_POINTS]] = eyes[:, BROW_POINTS]
        displacements[:, SPEECH_POINTS] = (
            speech[:, SPEECH_POINTS] * self.motion_scale * gate[:, None, None]
        )
        self.frames += n
        return Motion(
            displacements, closure.astype(np.float32), self.fps, pose * self.head_motion
        )

    def _blinks(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Eye-region displacements and closure of the next n frames."""
        upto = self.frames + n
        while len(self.closure) < upto:
            eyes, closure = blink_motion(
                self.blink_model,
                self.blink_block or n,
                self.fps,
                self.blink_rate,
                self.generator,
            )
            self.eyes = np.concatenate([self.eyes, eyes])
            self.closure = np.concatenate([self.closure, closure.astype(np.float32)])
        span = slice(self.frames, upto)
        return self.eyes[span], self.closure[span]
