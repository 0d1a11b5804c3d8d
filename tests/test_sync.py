"""The sync expert: model contract, windowing, and the whole train -> score path on a toy
audio-visual world (metrics.md 4.4 item 4) where a mouth ellipse opens with the syllables."""

import numpy as np
import pytest
import torch

from talkface.features.align import SAMPLE_RATE, shift_audio, sync_windows
from talkface.features.audio import speech_features
from talkface.models.syncnet import PRESETS, SyncNet
from talkface.train.syncnet import (
    SyncClip,
    SyncNetTrainConfig,
    multiway_loss,
    sample_batch,
)


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return SyncNet(PRESETS["tiny"])


def _window_inputs(batch=3, candidates=31, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, 5, 48, 96, generator=g),
        torch.randn(batch, candidates, 20, 12, generator=g),
        torch.ones(batch, candidates, dtype=torch.bool),
    )


def test_embeddings_shape_gradients_and_save_load(tiny, tmp_path):
    from talkface.models.syncnet import load_syncnet
    from talkface.train.checkpoint import load_checkpoint, save_checkpoint

    loss, accuracy = multiway_loss(tiny, *_window_inputs())
    assert torch.isfinite(loss) and 0 <= accuracy <= 1
    loss.backward()
    for name, p in tiny.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient for {name}"
    tiny.eval()
    faces, audio, _ = _window_inputs()
    v = tiny.embed_video(faces)
    assert v.shape == (3, tiny.config.embedding)
    torch.testing.assert_close(v, tiny.embed_video(faces))
    save_checkpoint(tmp_path / "s.pt", tiny)
    again = load_syncnet(load_checkpoint(tmp_path / "s.pt"))
    torch.testing.assert_close(
        again.embed_audio(audio[:, 0]), tiny.embed_audio(audio[:, 0])
    )


def test_invalid_candidates_are_never_chosen(tiny):
    faces, audio, valid = _window_inputs()
    valid[:, :10] = False
    loss, _ = multiway_loss(tiny, faces, audio, valid)
    assert torch.isfinite(loss)


def test_sync_windows_follow_joonson():
    video, features = sync_windows(75, 48000)
    assert len(video) == 70 and features[-1] + 20 <= 300
    np.testing.assert_array_equal(features, 4 * video)
    assert len(sync_windows(75, 40 * 640)[0]) == 35  # audio shorter than video


def test_shift_audio_leads_and_lags():
    wav = np.arange(16000, dtype=np.float32)
    lead = shift_audio(wav, 2)  # 2 frames = 1280 samples earlier
    assert lead[0] == 1280 and lead[-1] == 0 and len(lead) == len(wav)
    lag = shift_audio(wav, -1)
    assert lag[640] == 0 and lag[0] == 0 and lag[-1] == 16000 - 641


def _toy_clip(rng, frames=75):
    """A grey 'mouth' ellipse whose opening follows a syllable envelope, and a voice whose
    two formant-like tones follow the same envelope over a faint noise floor."""
    import cv2

    envelope = np.zeros(frames)
    t = int(rng.integers(2, 8))
    while t < frames - 4:
        length = int(min(rng.integers(3, 8), frames - t))
        envelope[t : t + length] = np.sin(np.linspace(0, np.pi, length)) * rng.uniform(
            0.5, 1
        )
        t += length + int(rng.integers(1, 6))
    n = frames * SAMPLE_RATE // 25
    time = np.arange(n) / SAMPLE_RATE
    amplitude = np.interp(time, (np.arange(frames) + 0.5) / 25, envelope)
    voice = np.sin(2 * np.pi * 520 * time) + 0.6 * np.sin(2 * np.pi * 1480 * time)
    wav = (0.3 * amplitude * voice + 0.003 * rng.standard_normal(n)).astype(np.float32)
    faces = np.full((frames, 48, 96), 150, np.uint8)
    for i, e in enumerate(envelope):
        cv2.ellipse(faces[i], (48, 26), (22, int(2 + 14 * e)), 0, 0, 360, 40, -1)
    faces = np.clip(faces + rng.normal(0, 3, faces.shape), 0, 255).astype(np.uint8)
    return SyncClip("toy", faces, wav, [speech_features(wav)[0].numpy()])


def test_toy_expert_recovers_injected_offsets():
    from talkface.eval.sync import score_clip

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    clips = [_toy_clip(rng) for _ in range(24)]
    model = SyncNet(PRESETS["tiny"])
    cfg = SyncNetTrainConfig(max_shift_px=1, max_zoom=0.02, max_gamma=1.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss, _ = multiway_loss(
            model, *sample_batch(clips, rng.integers(len(clips), size=16), cfg, rng)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    test = [_toy_clip(rng) for _ in range(3)]
    for clip in test:
        for lead in (0, 3, -4, 7):
            score = score_clip(model, clip.faces, shift_audio(clip.wav, lead))
            assert score.offset == lead
    in_sync = np.mean([score_clip(model, c.faces, c.wav).confidence for c in test])
    mismatched = np.mean(
        [score_clip(model, a.faces, b.wav).confidence for a, b in zip(test, test[1:])]
    )
    static = np.mean(
        [
            score_clip(model, np.repeat(c.faces[:1], 75, 0), c.wav).confidence
            for c in test
        ]
    )
    assert in_sync > 3 * mismatched
    assert static < in_sync / 3


def test_training_augmentation_off_equals_the_scoring_input():
    from talkface.features.visual import face_windows
    from talkface.train.syncnet import augment_faces

    faces = np.random.default_rng(1).integers(0, 255, (5, 48, 96)).astype(np.uint8)
    scored = face_windows(faces, np.array([0]))[0]
    off = SyncNetTrainConfig(max_shift_px=0, max_zoom=0, max_gamma=1, pixel_noise=0)
    for seed in range(4):  # the mirror is random: either way, same scale and content
        window = augment_faces(faces, off, np.random.default_rng(seed))
        assert np.allclose(window, scored, atol=1e-4) or np.allclose(
            window, scored[:, :, ::-1], atol=1e-4
        )


def test_clips_too_short_to_score_are_refused_not_misread(tiny):
    from talkface.eval.sync import embed_clip, scorable

    assert scorable(75, 48000) and not scorable(
        75, 30 * 640
    )  # sound shorter than video
    assert not scorable(34, 48000)
    with pytest.raises(ValueError, match="windows"):
        embed_clip(
            tiny, np.zeros((75, 48, 96), np.uint8), np.zeros(30 * 640, np.float32)
        )


def test_expert_windows_are_the_scorers_windows_and_carry_gradients():
    """The generator's loss sees what the scorer sees: grey lower face, area-resized,
    standardised per window, up to uint8 rounding."""
    import cv2

    from talkface.features.visual import expert_windows, face_windows, lower_face

    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 256, (128, 128, 3), np.uint8), (0, 0), 2)
    crops = np.stack(
        [
            np.clip(base.astype(int) + 6 * t - 20, 0, 255).astype(np.uint8)
            for t in range(8)
        ]
    )
    crops[3:, 70:90, 40:88] = (30, 10, 200)  # a mouth opening in the lower half only
    reference = face_windows(lower_face(crops), np.arange(4))
    frames = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 127.5 - 1
    frames.requires_grad_(True)
    windows = expert_windows(frames[None])
    assert windows.shape == (1, 4, 5, 48, 96)
    np.testing.assert_allclose(windows[0].detach().numpy(), reference, atol=0.05)
    windows.square().sum().backward()
    assert frames.grad[:, :, 64:].abs().sum() > 0
    assert frames.grad[:, :, :64].abs().sum() == 0
