"""Vougioukas et al. temporal GAN: streaming frames, the training losses and the pipeline."""

import numpy as np
import pytest
import torch

from talkface.models.vougioukas import (
    AUDIO_WINDOW,
    EYE_PRESETS,
    NOISE_ENCODER_PRESETS,
    PRESETS,
    SNIPPET_FRAMES,
    SYNC_PRESETS,
    EyeMotionDiscriminator,
    NoiseEncoder,
    SyncDiscriminator,
    TemporalGenerator,
)
from talkface.render.temporal_gan import GANFrames, NoiseTrack
from talkface.train import temporal_gan as recipe

TINY = dict(
    model="temporal-gan-tiny",
    frame_discriminator="frame-tiny",
    sequence_discriminator="sequence-tiny",
    sync_discriminator="sync-tiny",
)


def _generator(seed=0):
    torch.manual_seed(seed)
    model = TemporalGenerator(PRESETS["temporal-gan-tiny"]).eval()
    with torch.no_grad():  # half colour map, half still (a fresh one shows 88% still)
        model.decoder.out[0].bias[3] = 0.0
    return model


def _frames(model, seed, seconds=1.3, chunk=8):
    rng = np.random.default_rng(0)
    still = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    wav = (0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
    noise = torch.Generator().manual_seed(seed)
    return GANFrames(model, still, wav, 25.0, noise, chunk=chunk)


def test_frames_in_any_order_equal_frames_in_order_and_seeds_reproduce():
    model = _generator()
    frames = _frames(model, seed=1)
    assert len(frames) == 33  # 1.3 s x 25 fps = 32.5, halves up
    in_order = frames.all()
    assert in_order.shape == (33, 32, 32, 3) and in_order.dtype == np.uint8
    again = _frames(model, seed=1)
    picked = [again(i) for i in (20, 3, 32, 9)]  # backwards jumps replay from the start
    for i, frame in zip((20, 3, 32, 9), picked):
        np.testing.assert_array_equal(frame, in_order[i])
    # chunking only batches the work: one chunk for everything gives the same frames
    np.testing.assert_array_equal(_frames(model, seed=1, chunk=64).all(), in_order)
    other = _frames(model, seed=2).all()
    assert np.abs(other.astype(int) - in_order).max() > 0
    with pytest.raises(IndexError):
        frames(33)


def test_noise_track_draws_the_same_noise_however_it_is_taken():
    model = _generator()
    whole = NoiseTrack(model, torch.Generator().manual_seed(4)).take(60)
    track = NoiseTrack(model, torch.Generator().manual_seed(4))
    pieces = torch.cat([track.take(n) for n in (5, 1, 30, 0, 24)], 1)
    torch.testing.assert_close(pieces, whole, rtol=0, atol=0)
    other = NoiseTrack(model, torch.Generator().manual_seed(5)).take(60)
    assert (other - whole).abs().max() > 0.1


def test_streamed_frames_are_the_file_frames_and_come_as_the_audio_arrives(
    samples, monkeypatch
):
    """Audio in odd chunks: with the whole window heard, the generator gets the file
    pipeline's audio windows and noise, so every frame is the file pipeline's; each frame
    waits only for its window's end."""
    import talkface
    from talkface.features.align import n_video_frames
    from talkface.pipelines.streaming import TemporalGANStreamingSession, open_stream
    from talkface.pipelines.temporal_gan import TemporalGANPipeline
    from talkface.render.temporal_gan import GANStream

    fed = {"file": [], "stream": []}  # what each run feeds the generator's step
    step = GANStream.__call__

    def spy(self, audio, noise):
        fed[run].append((audio, noise))
        return step(self, audio, noise)

    monkeypatch.setattr(GANStream, "__call__", spy)
    pipe = TemporalGANPipeline(_generator())
    image, audio = samples
    wav = talkface.io.audio.load_audio(audio)[: 2 * 16000]
    run = "file"
    video = pipe(image, wav, seed=3, crop_size=64)
    video = [video[i] for i in range(len(video))]
    run = "stream"
    session = open_stream(pipe, image, seed=3, crop_size=64, lookahead_ms=None)
    assert isinstance(session, TemporalGANStreamingSession)
    streamed, heard = [], []
    for i in range(0, len(wav), 997):  # no alignment with frames
        frames = session.push(wav[i : i + 997])
        streamed += frames
        heard += [min(i + 997, len(wav))] * len(frames)
    streamed += session.finish()
    assert len(streamed) == len(video) == n_video_frames(len(wav), 25)
    assert len(fed["stream"]) > len(fed["file"])  # smaller steps, same inputs
    for k in (0, 1):  # audio windows (T, W) and noise (1, T, d), both along time
        np.testing.assert_array_equal(
            *(np.concatenate([f[k] for f in fed[r]], k) for r in ("file", "stream"))
        )
    assert max(np.abs(a.astype(int) - b).max() for a, b in zip(streamed, video)) <= 1
    # frame i (centre (i + 0.5) / 25 s) needs 0.1 s past its centre, not the whole file
    ends = (np.arange(len(heard)) + 0.5) / 25 * 16000 + 1600
    assert np.all(np.array(heard) >= ends) and np.all(np.array(heard) < ends + 997)
    with pytest.raises(talkface.errors.TalkfaceError, match="blink"):
        open_stream(pipe, image, blink_rate=0.5)
    with pytest.raises(talkface.errors.TalkfaceError, match="no audio"):
        open_stream(pipe, image).finish()


def _config(**overrides):
    return recipe.TemporalGANTrainConfig(
        **TINY, **{"batch_size": 3, "sequence": 12, **overrides}
    )


def _batch(cfg, seed=0):
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(2):
        n = 40
        crops = rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8)
        wav = rng.standard_normal(n * 640).astype(np.float32)
        clips.append({"crops": crops, "wav": wav, "fps": np.float32(25)})
    recipe.with_audio(clips)
    return clips, recipe.make_batch(clips, cfg, rng)


def test_batch_snippets_take_their_middle_frames_audio_and_shifted_audio_is_far():
    cfg = _config()
    clips, batch = _batch(cfg)
    assert batch.real.shape == (3, 12, 3, 32, 32) and batch.audio.shape == (
        3,
        12,
        AUDIO_WINDOW,
    )
    video, audio = recipe.snippet_of(batch.real, batch.audio, batch.snippet)
    assert video.shape == (3, SNIPPET_FRAMES, 3, 16, 32)
    for b in range(3):
        s = int(batch.snippet[b])
        torch.testing.assert_close(video[b], batch.real[b, s : s + 5, :, 16:])
        torch.testing.assert_close(audio[b], batch.audio[b, s + 2])
        # the shifted audio is some clip window at least MIN_SHIFT frames from the middle
        distances = [
            np.abs(c["audio"] - batch.shifted[b].numpy()).sum(1) for c in clips
        ]
        assert min(d.min() for d in distances) == 0
        assert not torch.equal(batch.shifted[b], audio[b])


def test_other_voice_changes_pitch_and_level_but_keeps_each_window_on_its_frame():
    """A 200 Hz tone played 1.15x as fast reads 230 Hz, its window centres (the frames'
    moments) unmoved; the gain stays within its range; default settings leave the audio."""
    n, fps = 30, 25.0
    t = np.arange(int(n / fps * 16000)) / 16000
    clip = {"crops": np.zeros((n, 32, 32, 3), np.uint8), "fps": fps}
    clip["wav"] = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    recipe.with_audio([clip])
    plain = clip["audio"]
    rng = np.random.default_rng(0)
    cfg = _config(audio_rate=0.15, audio_gain=2.0)
    for _ in range(20):
        state = rng.bit_generator.state
        rate = np.exp(rng.uniform(-1, 1) * np.log(1.15))
        gain = np.exp(rng.uniform(-1, 1) * np.log(2.0))
        rng.bit_generator.state = state
        windows = recipe.other_voice(clip, cfg, rng)
        assert 1 / 1.15 <= rate <= 1.15 and 0.5 <= gain <= 2
        middle = windows[n // 2]
        spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
        peak = np.fft.rfftfreq(len(middle), 1 / 16000)[spectrum.argmax()]
        assert abs(peak - 200 * rate) <= 5
        centre = AUDIO_WINDOW // 2
        np.testing.assert_allclose(
            windows[:, centre], gain * plain[:, centre], atol=1e-4
        )
    same = _config(audio_rate=0.0, audio_gain=1.0)
    np.testing.assert_array_equal(recipe.other_voice(clip, same, rng), plain)


def test_blink_share_puts_a_shut_eye_inside_the_sequences():
    """The sequence discriminator learns that real faces blink only from sequences that
    show one; `blink_share` of them hold a shut frame somewhere, not always at the start."""
    from talkface.face.align import mean_face

    clips, _ = _batch(_config())
    points = np.repeat(mean_face()[None] * 32, 40, 0)
    points[25, [37, 38, 43, 44]] = points[25, [41, 40, 47, 46]]  # one shut frame
    for clip in clips:
        clip["crop_landmarks"] = points

    def starts(share: float) -> np.ndarray:
        cfg = _config(batch_size=24, blink_share=share)
        batch = recipe.make_batch(clips, cfg, np.random.default_rng(1))
        return np.array(
            [
                next(
                    t
                    for c in clips
                    for t in range(29)
                    if np.array_equal(c["audio"][t], audio[0].numpy())
                )
                for audio in batch.audio
            ]
        )

    held = starts(1.0)
    assert ((held <= 25) & (25 < held + 12)).all()
    assert len(set(25 - held)) > 4  # the shut frame at many places in the sequence
    anywhere = starts(0.0)
    assert ((anywhere <= 25) & (25 < anywhere + 12)).mean() < 0.7


def test_reconstruction_covers_the_lower_half_only_and_zero_weights_drop_terms():
    cfg = _config()
    _, batch = _batch(cfg)
    disc = recipe.Discriminators(cfg)
    critics = dict(disc.named_children())
    pick = torch.zeros(3, dtype=torch.long)
    fake = batch.real.clone()
    terms = recipe.generator_losses(critics, batch, fake, pick, cfg)
    assert set(terms) == {"g_frame", "g_sequence", "g_sync", "l1"}
    assert terms["l1"] == 0
    fake[..., :16, :] = 0  # the upper half may move freely (blinks, brows)
    assert recipe.generator_losses(critics, batch, fake, pick, cfg)["l1"] == 0
    fake[..., 16:, :] += 0.5
    l1 = recipe.generator_losses(critics, batch, fake, pick, cfg)["l1"]
    assert l1.item() == pytest.approx(cfg.reconstruction_weight * 0.5, rel=1e-3)
    ablated = _config(sync_weight=0.0, sequence_weight=0.0)
    assert set(recipe.generator_losses(critics, batch, fake, pick, ablated)) == {
        "g_frame",
        "l1",
    }
    assert set(recipe.discriminator_losses(critics, batch, fake, pick, ablated)) == {
        "d_frame"
    }
    eyes = _config(eye_weight=0.5, eye_discriminator="eye-tiny")
    critics["eye"] = EyeMotionDiscriminator(EYE_PRESETS["eye-tiny"])
    assert "g_eye" in recipe.generator_losses(critics, batch, fake, pick, eyes)
    assert "d_eye" in recipe.discriminator_losses(critics, batch, fake, pick, eyes)


def test_the_generator_is_judged_in_the_company_the_discriminators_train_in():
    """Discriminators with batch norm (training mode) judge generated data beside real data in
    both steps: judged alone, a generated batch is normalised as if it were typical."""
    cfg = _config(eye_weight=1.0, eye_discriminator="eye-tiny")
    _, batch = _batch(cfg)
    torch.manual_seed(0)
    critics = dict(recipe.Discriminators(cfg).named_children())
    critics["eye"] = EyeMotionDiscriminator(EYE_PRESETS["eye-tiny"])
    fake = 0.5 * torch.tanh(torch.randn_like(batch.real))
    pick = torch.zeros(3, dtype=torch.long)
    terms = recipe.generator_losses(critics, batch, fake, pick, cfg)
    real, generated = critics["eye"](torch.cat([batch.real, fake])).chunk(2)
    assert terms["g_eye"].item() == pytest.approx(recipe.bce(generated, True).item())
    alone = recipe.bce(critics["eye"](fake), True).item()
    assert abs(alone - terms["g_eye"].item()) > 1e-3
    d_eye = recipe.discriminator_losses(critics, batch, fake, pick, cfg)["d_eye"]
    assert d_eye.item() == pytest.approx(
        (recipe.bce(real, True) + recipe.bce(generated, False)).item()
    )


def test_sync_discriminator_loss_labels_in_sync_shifted_and_generated_pairs():
    """Fig. 6: real + in-sync audio is real; real + shifted audio and generated + its audio are
    fake, each at half weight. A discriminator that scores by audio identity alone gets the
    loss this labelling implies."""
    cfg = _config(frame_weight=0.0, sequence_weight=0.0)
    _, batch = _batch(cfg)

    class ByAudio(torch.nn.Module):  # +10 for the in-sync audio, -10 for anything else
        def forward(self, video, audio):
            real_audio = recipe.snippet_of(batch.real, batch.audio, batch.snippet)[1]
            same = (audio == real_audio.repeat(len(audio) // 3, 1)).all(1)
            return torch.where(same, 10.0, -10.0)

    fake = torch.zeros_like(batch.real)
    loss = recipe.discriminator_losses({"sync": ByAudio()}, batch, fake, None, cfg)
    # in-sync right, shifted right, generated (in-sync audio) wrong: 0.5 x softplus(10)
    assert loss["d_sync"].item() == pytest.approx(0.5 * 10, abs=1e-3)


def test_generate_with_a_temporal_gan_checkpoint(tmp_path, samples):
    """The pipeline pastes 128 px crops back at the photo's size; seeds reproduce; the debug
    view shows still | frame | motion map; blink control is refused with a clear error."""
    import talkface
    from talkface.errors import TalkfaceError
    from talkface.models.vougioukas import TemporalGANConfig
    from talkface.pipelines.temporal_gan import TemporalGANPipeline
    from talkface.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    config = TemporalGANConfig(size=128, channels=4, identity_dim=8, audio_channels=4,
                               audio_dim=8, content_dim=8, noise_dim=3)  # fmt: skip
    save_checkpoint(tmp_path / "gan.pt", TemporalGenerator(config))
    pipe = talkface.load_pipeline(str(tmp_path / "gan.pt"))
    assert isinstance(pipe, TemporalGANPipeline)
    image, audio = samples
    video = pipe(image, audio, seed=3)
    photo = talkface.io.image.load_image(image)
    assert video[0].shape == photo.shape
    np.testing.assert_array_equal(video[5], pipe(image, audio, seed=3)[5])
    debug = pipe(image, audio, seed=3, debug=True)
    assert debug[0].shape == (128, 3 * 128, 3)
    with pytest.raises(TalkfaceError, match="blink"):
        pipe(image, audio, blink_rate=0.5)
    with pytest.raises(TalkfaceError, match="renderer"):
        talkface.load_pipeline(str(tmp_path / "gan.pt"), renderer="some.pt")


@pytest.mark.slow
def test_cli_generates_and_streams_with_a_temporal_gan_checkpoint(tmp_path):
    import subprocess
    import sys

    from talkface.io.video import probe_video, read_video
    from talkface.train.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "gan.pt", _generator())
    out = tmp_path / "out.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "talkface", "generate", "--model", tmp_path / "gan.pt",
         "--seed", "0", "-o", out, "--debug", tmp_path / "debug.mp4"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = probe_video(tmp_path / "debug.mp4")
    assert (info["width"], info["height"]) == (3 * 32, 32)
    assert probe_video(out)["frames"] == info["frames"]
    # streamed with the whole window heard: the generated video, as the audio arrives
    streamed = tmp_path / "streamed.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "talkface", "stream", "--model", tmp_path / "gan.pt",
         "--seed", "0", "-o", streamed, "--lookahead-ms", "100"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "first frame" in result.stderr
    whole, live = read_video(out)[0], read_video(streamed)[0]
    assert len(live) == len(whole) and np.abs(live.astype(int) - whole).mean() < 0.5
    refused = subprocess.run(
        [sys.executable, "-m", "talkface", "stream", "--model", tmp_path / "gan.pt",
         "--blink-rate", "0.5", "-o", tmp_path / "refused.mp4"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert refused.returncode == 1 and "no blink control" in refused.stderr
    assert not (tmp_path / "refused.mp4").exists()


def test_validation_scores_whole_clips_and_selects_by_sync():
    from talkface.eval.runner import load_sync_expert

    rng = np.random.default_rng(0)
    clip = {
        "crops": rng.integers(0, 255, (75, 32, 32, 3), dtype=np.uint8),
        "wav": (0.1 * rng.standard_normal(3 * 16000)).astype(np.float32),
        "fps": np.float32(25),
    }
    metrics = recipe.validate(_generator(), {"s31": [clip]}, load_sync_expert())
    assert set(metrics["s31"]) == {
        "abs_offset", "confidence", "ssim", "lower_l1", "still_ssim",
        "blinks_per_s", "real_blinks_per_s",
    }  # fmt: skip
    assert np.isnan(metrics["s31"]["blinks_per_s"])  # noise shows no face
    in_sync = {"a": {"abs_offset": 1, "confidence": 2.0, "ssim": 0.5}}
    off = {"a": {"abs_offset": 3, "confidence": 5.0, "ssim": 0.9}}
    sharper = {"a": {"abs_offset": 3, "confidence": 5.0, "ssim": 0.95}}
    score = recipe.sync_score
    assert score(in_sync) > score(sharper) > score(off) > 0  # sync first, then likeness


def test_validation_finds_the_blinks_of_real_crops_and_none_in_a_still(grid_cache):
    from talkface.train.renderer_data import load_crops

    clips = load_crops(grid_cache, "train", 128)
    assert len(clips) == 3  # each of these GRID s1 clips holds a blink
    for clip in clips:
        fps = float(clip["fps"])
        assert 1 / 3 <= recipe.blink_rate(clip["crops"], fps) <= 2 / 3, clip["name"]
        still = np.repeat(clip["crops"][:1], len(clip["crops"]), 0)
        assert recipe.blink_rate(still, fps) == 0
        # the coded eye term's band holds every eye landmark of the real crops
        eyes = clip["crop_landmarks"][:, 36:48] / 128
        for axis, (low, high) in ((1, recipe.EYE_ROWS), (0, recipe.EYE_COLUMNS)):
            assert low < eyes[..., axis].min() and eyes[..., axis].max() < high


def test_flow_teacher_moves_the_still_towards_each_real_frame(grid_cache):
    """The warp renderer's motion from the still's landmarks to a frame's, as a flow in grid
    units, moves the still's mouth and eyes towards the real frame's (real GRID crops, mirrored
    or not), and the flow term is 0 for the teacher's own flow and counts pixels."""
    from talkface.models.vougioukas import warp
    from talkface.train.renderer_data import load_crops

    clips = load_crops(grid_cache, "train", 128, extra=("wav",))
    recipe.with_audio(clips)
    cfg = recipe.TemporalGANTrainConfig(
        **{**TINY, "model": "temporal-gan-tiny-flow"}, batch_size=6, flow_weight=1.0
    )
    batch = recipe.make_batch(clips, cfg, np.random.default_rng(0))
    assert batch.flow.shape == (6, 16, 2, 128, 128)
    b, t = batch.real.shape[:2]
    still = batch.still.repeat_interleave(t, 0)
    moved = warp(still, batch.flow.flatten(0, 1)).unflatten(0, (b, t))
    kept = batch.still[:, None].expand_as(batch.real)
    for rows in (slice(75, 110), slice(40, 60)):  # mouth, eyes
        region = (..., rows, slice(30, 98))
        error = (moved - batch.real)[region].abs().mean()
        assert error < 0.9 * (kept - batch.real)[region].abs().mean()
    assert recipe.flow_error(batch.flow, batch.flow) == 0
    one_pixel = torch.full_like(batch.flow, 2 / 127)
    assert recipe.flow_error(batch.flow + one_pixel, batch.flow) == pytest.approx(1)


def test_maps_region_upper_leaves_the_mouth_to_the_colour_map():
    """With maps_region "upper" the attention regulariser and the flow teacher see the upper
    half alone: a mouth painted (attention 0) and moved off the teacher's flow costs nothing
    there, and the whole crop's terms count it."""
    b, t, s = 2, 3, 16
    attention = torch.ones(2 * b, t, 1, s, s)
    attention[..., s // 2 :, :] = 0  # the mouth painted
    teacher = torch.zeros(b, t, 2, s, s)
    teacher[..., s // 2 :, :] = 0.5  # the teacher moves the mouth, the flow does not
    maps = {"attention": attention, "flow": torch.zeros(2 * b, t, 2, s, s)}

    def terms(region: str) -> dict:
        cfg = recipe.TemporalGANTrainConfig(
            **{**TINY, "model": "temporal-gan-tiny-flow"},
            attention_weight=1.0,
            flow_weight=1.0,
            maps_region=region,
        )
        return recipe.map_terms(maps, teacher, b, cfg, coded=True)

    upper, face = terms("upper"), terms("face")
    assert upper["attention"].item() == 0 and upper["coded_flow"].item() == 0
    assert "flow" not in upper  # drawn noise's flow is taught on the lower half only
    assert face["attention"].item() == pytest.approx(0.5)
    assert face["flow"].item() > 0 and face["coded_flow"].item() > 0
    with pytest.raises(ValueError, match="maps_region"):
        recipe.TemporalGANTrainConfig(**TINY, maps_region="mouth")


def test_coded_eye_term_weighs_the_eye_band_alone():
    cfg = recipe.TemporalGANTrainConfig(
        **TINY, encoder_weight=1.0, encoder_eye_weight=10.0
    )
    real = torch.zeros(1, 2, 3, 32, 32)
    code = torch.zeros(1, 2, 10)

    def terms(row: int) -> dict:
        decoded = real.clone()
        decoded[..., row, 16] = 1.0
        return recipe.coded_terms(decoded, real, code, code, cfg, 1.0, 0)[0]

    pixels_per_band = 4 * 16  # rows 10-13, columns 8-23 of 32
    eyes, brows = terms(row=12), terms(row=4)
    assert eyes["coded_eyes"].item() == pytest.approx(10 / pixels_per_band)
    # a brow's change counts in the upper half's L1 only
    assert brows["coded_eyes"].item() == 0 and brows["coded_l1"].item() > 0
    plain = recipe.TemporalGANTrainConfig(**TINY, encoder_weight=1.0)
    unweighted = recipe.coded_terms(real, real, code, code, plain, 1.0, 0)[0]
    assert "coded_eyes" not in unweighted


def test_prior_divergence_is_zero_at_the_noise_prior_and_grows_away_from_it():
    std = 0.6**0.5
    mean = torch.zeros(2, 5, 10)
    log_var = torch.full_like(mean, np.log(0.6))
    assert recipe.prior_divergence(mean, log_var, std).item() == pytest.approx(
        0, abs=1e-6
    )
    # a code 1 away from 0 in each of 10 dimensions: 10 * 1 / (2 * 0.6) per frame
    shifted = recipe.prior_divergence(mean + 1, log_var, std).item()
    assert shifted == pytest.approx(10 / 1.2, rel=1e-5)
    # variance 4x the prior's: 0.5 * (4 - 1 - log 4) per dimension
    wide = recipe.prior_divergence(mean, log_var + np.log(4), std).item()
    assert wide == pytest.approx(10 * 0.5 * (3 - np.log(4)), rel=1e-5)


@pytest.mark.slow
def test_noise_encoder_teaches_the_noise_what_the_upper_face_does():
    """The cVAE path: videos of one still and one audio whose upper half lights up at different
    times (a blink: what only the noise can say) are reproduced from their encoded noise once
    generator and encoder have trained on the coded L1, with the KL ramped in after a delay;
    drawn noise cannot know when, so it stays far off. With the KL from the first step the
    codes collapse to the prior and the encoded noise is no better than drawn noise."""

    def train(kl_delay: int) -> tuple[float, float]:
        cfg = recipe.TemporalGANTrainConfig(
            **TINY,
            encoder_weight=1.0,
            kl_weight=1e-3,
            kl_delay=kl_delay,
            noise_encoder="noise-encoder-tiny",
        )
        torch.manual_seed(0)
        generator = TemporalGenerator(PRESETS["temporal-gan-tiny"])
        encoder = NoiseEncoder(NOISE_ENCODER_PRESETS["noise-encoder-tiny"])
        still = (0.3 * torch.rand(1, 3, 32, 32) - 0.5).repeat(4, 1, 1, 1)
        real = still[:, None].repeat(1, 8, 1, 1, 1)
        for k in range(4):  # each video's upper half lit for 2 frames, at its own time
            real[k, 2 * k : 2 * k + 2, :, :16] += 1.5
        audio = torch.zeros(4, 8, AUDIO_WINDOW)
        params = [*generator.parameters(), *encoder.parameters()]
        optimizer = torch.optim.Adam(params, lr=1e-3)
        for step in range(400):
            z, mean, log_var = recipe.encode_noise(encoder, real)
            decoded = generator(still, audio, z)
            terms, _ = recipe.coded_terms(
                decoded, real, mean, log_var, cfg, 0.6**0.5, step
            )
            optimizer.zero_grad()
            sum(terms.values()).backward()
            optimizer.step()
        learned = [*encoder.parameters(), *generator.noise_rnn.parameters()]
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in learned)
        generator.eval()
        with torch.no_grad():
            coded = generator(still, audio, encoder(real)[0])
            drawn = generator(still, audio, generator.sample_noise(4, 8))
        return tuple(
            recipe.upper_half(frames - real).abs().mean().item()
            for frames in (coded, drawn)
        )

    coded, drawn = train(kl_delay=100)
    assert coded < 0.2 * drawn
    coded, drawn = train(kl_delay=0)
    assert coded > 0.9 * drawn


def _talking_clips(seed=0, n=40):
    """Clips whose lower face brightens with each frame's loudness: in sync by design."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(3):
        loud = rng.uniform(0.05, 1, n)
        wav = rng.standard_normal(n * 640) * np.repeat(loud, 640)
        crops = np.full((n, 32, 32, 3), 60, np.uint8)
        crops[:, 16:] = (40 + 200 * loud)[:, None, None, None].astype(np.uint8)
        clips.append({"crops": crops, "wav": wav.astype(np.float32), "fps": 25.0})
    recipe.with_audio(clips)
    return clips


def test_sync_warm_up_learns_which_audio_a_real_snippet_shows_and_reproduces():
    """Before the GAN, the sync discriminator learns on real snippets which of 31 shifts
    of audio they show (chance: 3%), from fresh weights; the same seed gives the same
    weights whatever it started from (every process of a distributed run warms up alone)."""
    cfg = recipe.TemporalGANTrainConfig(**TINY, sync_warmup=40, lr=1e-3)
    clips = _talking_clips()
    weights = []
    for start in range(2):
        torch.manual_seed(start)
        sync = SyncDiscriminator(SYNC_PRESETS["sync-tiny"])
        report = recipe.warm_up_sync(sync, clips, cfg, progress=False)
        weights.append(sync.state_dict())
    assert report["first_accuracy"] < 0.25 and report["last_accuracy"] > 0.4, report
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


def test_a_run_started_from_another_keeps_its_discriminators_and_encoder(tmp_path):
    from talkface.train.checkpoint import save_checkpoint

    cfg = recipe.TemporalGANTrainConfig(**TINY)
    torch.manual_seed(0)
    earlier = recipe.Discriminators(cfg)
    encoder = NoiseEncoder(NOISE_ENCODER_PRESETS["noise-encoder-tiny"])
    save_checkpoint(
        tmp_path / "run.pt",
        _generator(),
        discriminators=earlier.state_dict(),
        noise_encoder=encoder.state_dict(),
    )
    torch.manual_seed(1)
    fresh = recipe.Discriminators(cfg)
    eyes = EyeMotionDiscriminator(EYE_PRESETS["eye-tiny"])
    eyes_before = {k: v.clone() for k, v in eyes.state_dict().items()}
    recipe.start_critics_from(
        str(tmp_path / "run.pt"), {"discriminators": fresh, "eye_discriminator": eyes}
    )
    for name, value in earlier.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[name]), name
    for name, value in eyes.state_dict().items():  # not in the checkpoint: left fresh
        assert torch.equal(value, eyes_before[name]), name


def test_a_flow_head_trains_at_its_own_rate():
    cfg = recipe.TemporalGANTrainConfig(**TINY, lr=1e-4, flow_lr=1e-3)
    plain = recipe.generator_optimizer(_generator(), cfg)
    assert [g["lr"] for g in plain.param_groups] == [1e-4]
    flow = TemporalGenerator(PRESETS["temporal-gan-tiny-flow"])
    groups = recipe.generator_optimizer(flow, cfg).param_groups
    assert [g["lr"] for g in groups] == [1e-4, 1e-3]
    assert groups[1]["params"] == list(flow.decoder.flow.parameters())
    assert sum(len(g["params"]) for g in groups) == len(list(flow.parameters()))


def _with_prior_file(tmp_path, seed=3):
    """A tiny generator with a learned noise prior, saved; the prior's weights are random."""
    from dataclasses import replace

    from talkface.train.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    config = replace(PRESETS["temporal-gan-tiny"], prior_hidden=8, prior_components=2)
    source = TemporalGenerator(config)
    save_checkpoint(tmp_path / "prior.pt", source)
    return source


def test_a_run_with_a_prior_draws_its_noise_from_it_and_leaves_it_as_fitted(tmp_path):
    source = _with_prior_file(tmp_path)
    generator = _generator(seed=1)
    model = recipe.frozen_prior_from(generator, str(tmp_path / "prior.pt"))
    for name, value in generator.state_dict().items():  # the generator's own weights
        assert torch.equal(model.state_dict()[name], value), name
    drawn = model.sample_noise(2, 12, torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        drawn, source.sample_noise(2, 12, torch.Generator().manual_seed(0))
    )
    gaussian = generator.sample_noise(2, 12, torch.Generator().manual_seed(0))
    assert (drawn - gaussian).abs().max() > 0.1
    # a training step moves the generator, never the prior it is given (nor may DDP expect
    # gradients for it)
    assert not any(p.requires_grad for p in model.noise_prior.parameters())
    cfg = _config()
    optimizer = recipe.generator_optimizer(model.train(), cfg)
    still, audio = torch.rand(2, 3, 32, 32) * 2 - 1, torch.randn(2, 12, AUDIO_WINDOW)
    model(still, audio, drawn).square().mean().backward()
    optimizer.step()
    for name, value in model.state_dict().items():
        if name.startswith("noise_prior."):
            assert torch.equal(value, source.state_dict()[name]), name
    assert not torch.equal(model.decoder.out[0].weight, generator.decoder.out[0].weight)
    from talkface.train.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "plain.pt", generator)
    with pytest.raises(ValueError, match="no learned noise prior"):
        recipe.frozen_prior_from(generator, str(tmp_path / "plain.pt"))


def _short_run(tmp_path, grid_cache, **overrides):
    """Two batches of the recipe on the three preprocessed GRID clips, into tmp_path/run."""
    cfg = _config(
        cache=str(grid_cache),
        out=str(tmp_path / "run"),
        steps_per_epoch=2,
        epochs=1,
        sequence=11,
        val_speakers=(),
        **overrides,
    )
    recipe.train(cfg, progress=False)


def test_the_recipe_trains_on_the_priors_noise_and_saves_it(tmp_path, grid_cache):
    from talkface.weights import load_model, load_weights

    source = _with_prior_file(tmp_path)
    _short_run(tmp_path, grid_cache, prior=str(tmp_path / "prior.pt"))
    trained = load_model(load_weights(str(tmp_path / "run" / "last.pt")))
    assert trained.noise_prior is not None
    for name, value in source.noise_prior.state_dict().items():
        assert torch.equal(trained.noise_prior.state_dict()[name], value), name


def test_kl_ramps_in_after_its_delay():
    cfg = recipe.TemporalGANTrainConfig(**TINY, kl_weight=0.5, kl_delay=100)
    ramp = [recipe.kl_ramp(step, cfg) for step in (0, 100, 150, 200, 1000)]
    assert ramp == [0.0, 0.0, 0.25, 0.5, 0.5]
    assert recipe.kl_ramp(0, recipe.TemporalGANTrainConfig(**TINY, kl_delay=0)) == 0.5


def test_diversity_rewards_upper_half_change_between_noise_draws_up_to_its_cap():
    z, other_z = torch.zeros(2, 4, 3), torch.ones(2, 4, 3)  # noise change 1
    fake = torch.zeros(2, 4, 3, 8, 8)
    assert recipe.diversity_loss(fake, fake.clone(), z, other_z, 0.05) == 0
    lower = fake.clone()
    lower[..., 4:, :] = 1.0  # the lower half belongs to the audio and L1
    assert recipe.diversity_loss(fake, lower, z, other_z, 0.05) == 0
    upper = fake.clone()
    upper[..., :4, :] = 0.02  # the upper half moved by 0.02 per unit of noise change
    loss = recipe.diversity_loss(fake, upper, z, other_z, 0.05)
    assert loss.item() == pytest.approx(-0.02)
    assert recipe.diversity_loss(fake, upper, z, 0.1 * other_z, 0.05) == -0.05  # capped
    # pooled: a +-0.02 checkerboard (speckle) earns nothing, a darker block (a lid) all of it
    speckle = fake.clone()
    speckle[..., :4, :] = (
        0.02 * (-1.0) ** torch.arange(8).add(torch.arange(8)[:, None])[:4]
    )
    assert recipe.diversity_loss(
        fake, speckle, z, other_z, 0.05
    ).item() == pytest.approx(-0.02)
    assert recipe.diversity_loss(fake, speckle, z, other_z, 0.05, pool=2) == 0
    assert recipe.diversity_loss(fake, upper, z, other_z, 0.05, pool=2).item() == (
        pytest.approx(-0.02)
    )
    # its gradient reaches the noise generator through a real generator
    model = _generator().train()
    still = torch.rand(2, 3, 32, 32) * 2 - 1
    audio = torch.randn(2, 4, AUDIO_WINDOW)
    z = model.sample_noise(2, 4, torch.Generator().manual_seed(0))
    other_z = model.sample_noise(2, 4, torch.Generator().manual_seed(1))
    both = model(
        still.repeat(2, 1, 1, 1), audio.repeat(2, 1, 1), torch.cat([z, other_z])
    )
    recipe.diversity_loss(both[:2], both[2:], z, other_z, 1.0).backward()
    grads = [p.grad for p in model.noise_rnn.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


def _indexed_clips(n=40, count=30):
    """Clips whose crops hold their frame index and whose loss-expert audio embeddings hold
    their window index (fewer windows than frames, as in real clips)."""
    clips = []
    for _ in range(2):
        crops = np.repeat(np.arange(n, dtype=np.uint8), 32 * 32 * 3).reshape(
            n, 32, 32, 3
        )
        wav = np.zeros(n * 640, np.float32)
        audio = np.arange(count, dtype=np.float32)[:, None]
        clips.append({"crops": crops, "wav": wav, "fps": 25.0, "expert_audio": audio})
    recipe.with_audio(clips)
    return clips


def test_batch_pairs_each_generated_window_with_its_audio_at_every_shift():
    cfg = _config(gain_range=(1.0, 1.0), gamma_range=(1.0, 1.0), flip_prob=0.0)
    batch = recipe.make_batch(_indexed_clips(), cfg, np.random.default_rng(0))
    windows = cfg.sequence - 4
    assert batch.expert_audio.shape == (3, windows, 31, 1)
    for b in range(3):
        t0 = round((float(batch.real[b, 0, 0, 0, 0]) + 1) * 127.5)
        candidates = t0 + np.arange(windows)[:, None] + np.arange(-15, 16)
        valid = (candidates >= 0) & (candidates < 30)
        np.testing.assert_array_equal(batch.expert_valid[b].numpy(), valid)
        np.testing.assert_array_equal(
            batch.expert_audio[b, ..., 0].numpy()[valid], candidates[valid]
        )


def test_the_expert_term_prefers_the_real_lips_in_sync_and_moves_the_frames(grid_cache):
    """With a trained expert (the evaluator stands in here), real lower faces score a lower
    loss against their own audio than 5 frames late; the loss reaches the frames."""
    from talkface.eval.runner import load_sync_expert
    from talkface.train.renderer_data import load_crops

    expert = load_sync_expert().eval().requires_grad_(False)
    clips = load_crops(grid_cache, "train", 128, extra=("wav",))[:1]
    recipe.with_audio(clips)
    recipe.with_expert_audio(clips, expert)
    cfg = _config(batch_size=4, sequence=24, expert="x", expert_weight=1.0)
    batch = recipe.make_batch(clips, cfg, np.random.default_rng(0))
    in_sync = batch.real[:, 5:].clone().requires_grad_(True)
    late = batch.real[:, :-5]
    from dataclasses import replace

    early = replace(
        batch,
        expert_audio=batch.expert_audio[:, 5:],
        expert_valid=batch.expert_valid[:, 5:],
    )
    loss = recipe.expert_terms(expert, in_sync, early, cfg)["expert"]
    assert loss < 0.8 * recipe.expert_terms(expert, late, early, cfg)["expert"]
    loss.backward()
    assert in_sync.grad[:, :, :, 64:].abs().sum() > 0  # the lower half
    assert in_sync.grad[:, :, :, :64].abs().sum() == 0


def test_the_evaluator_cannot_be_the_training_loss(tmp_path, grid_cache):
    from talkface.models.syncnet import PRESETS as SYNC_NETS
    from talkface.models.syncnet import SyncNet
    from talkface.registry import SYNC_EXPERT
    from talkface.train.checkpoint import save_checkpoint

    with pytest.raises(ValueError, match="evaluator"):
        recipe.load_loss_expert(SYNC_EXPERT)
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "expert.pt", SyncNet(SYNC_NETS["tiny"]))
    _short_run(
        tmp_path, grid_cache, expert=str(tmp_path / "expert.pt"), expert_weight=2.0
    )
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert "expert" in log[0].split(",")
    with pytest.raises(ValueError, match="--expert"):
        _config(expert_weight=1.0)
