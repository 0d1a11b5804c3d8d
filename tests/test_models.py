"""Every model at its tiny preset: shapes, no NaN, gradients everywhere, determinism, save/load
equality and a short overfit; then each paper's specifics."""

import numpy as np
import pytest
import torch

from talkface.features.audio import feature_dims
from talkface.models import atvgnet, dirfa, sinha, vougioukas
from talkface.models.vougioukas import AUDIO_WINDOW, SNIPPET_FRAMES


def _atnet_inputs(c, batch, frames, g):
    return (
        torch.randn(batch, frames, c.context, feature_dims(c.features), generator=g),
        torch.randn(batch, c.n_components, generator=g),
    )


def _landmark_net_inputs(c, batch, frames, g):
    dims = feature_dims(c.features)
    return (torch.randn(batch, frames, c.context, dims, generator=g),)


def _blink_inputs(c, batch, frames, g):
    return (torch.randn(batch, frames, c.noise_dim, generator=g),)


def _texture_inputs(c, batch, frames, g):
    shape = (batch, 1, c.size, c.size)
    return (
        torch.rand(batch, 3, c.size, c.size, generator=g) * 2 - 1,
        (torch.rand(shape, generator=g) > 0.9).float(),
        (torch.rand(shape, generator=g) > 0.9).float(),
    )


def _patch_inputs(c, batch, frames, g):
    return (torch.rand(batch, 3, 32, 32, generator=g) * 2 - 1,)


def _vgnet_inputs(c, batch, frames, g):
    return (
        torch.rand(batch, frames, 3, c.size, c.size, generator=g) * 2 - 1,
        torch.rand(batch, frames, 68, 2, generator=g),
        torch.rand(batch, 68, 2, generator=g),
    )


def _regression_inputs(c, batch, frames, g):
    return (
        torch.rand(batch, frames, 3, c.size, c.size, generator=g) * 2 - 1,
        torch.rand(batch, 68, 2, generator=g),
    )


def _dirfa_inputs(c, batch, frames, g):
    return (
        torch.randn(batch, frames, c.context, feature_dims(c.features), generator=g),
        torch.randn(batch, frames, c.n_params, generator=g),
    )


def _temporal_gan_inputs(c, batch, frames, g):
    return (
        torch.rand(batch, 3, c.size, c.size, generator=g) * 2 - 1,
        0.1 * torch.randn(batch, frames, AUDIO_WINDOW, generator=g),
        torch.randn(batch, frames, c.noise_dim, generator=g),
    )


def _frame_d_inputs(c, batch, frames, g):
    return tuple(
        torch.rand(batch, 3, c.size, c.size, generator=g) * 2 - 1 for _ in "ab"
    )


def _sequence_d_inputs(c, batch, frames, g):
    return (
        torch.rand(batch, frames, 3, c.size, c.size, generator=g) * 2 - 1,
        0.1 * torch.randn(batch, frames, AUDIO_WINDOW, generator=g),
    )


def _eye_d_inputs(c, batch, frames, g):
    return (torch.rand(batch, frames, 3, c.size, c.size, generator=g) * 2 - 1,)


def _sync_d_inputs(c, batch, frames, g):
    return (
        torch.rand(batch, SNIPPET_FRAMES, 3, c.size // 2, c.size, generator=g) * 2 - 1,
        0.1 * torch.randn(batch, AUDIO_WINDOW, generator=g),
    )


# name -> (model class, tiny config, inputs(config, batch, frames, generator),
#          output shape(config, batch, frames), overfit target scale)
MODELS = {
    "atnet": (
        atvgnet.AudioToLandmark,
        atvgnet.PRESETS["tiny"],
        _atnet_inputs,
        lambda c, b, t: (b, t, 68, 2),
        3.0,
    ),
    "atnet-phones": (
        atvgnet.AudioToLandmark,
        atvgnet.PRESETS["tiny-phones"],
        _atnet_inputs,
        lambda c, b, t: (b, t, 68, 2),
        3.0,
    ),
    "sinha": (
        sinha.LandmarkNet,
        sinha.PRESETS["sinha-tiny"],
        _landmark_net_inputs,
        lambda c, b, t: (b, t, 68, 2),
        3.0,
    ),
    "sinha-phones": (
        sinha.LandmarkNet,
        sinha.PRESETS["sinha-tiny-phones"],
        _landmark_net_inputs,
        lambda c, b, t: (b, t, 68, 2),
        3.0,
    ),
    "blinks": (
        sinha.BlinkGenerator,
        sinha.BLINK_PRESETS["blink-tiny"],
        _blink_inputs,
        lambda c, b, t: (b, t, 22, 2),
        3.0,
    ),
    "texture": (
        sinha.TextureGenerator,
        sinha.TEXTURE_PRESETS["texture-tiny"],
        _texture_inputs,
        lambda c, b, t: (b, 3, c.size, c.size),
        1.0,  # frames live in [-1, 1]
    ),
    "patch": (
        sinha.PatchDiscriminator,
        sinha.PATCH_PRESETS["patch-tiny"],
        _patch_inputs,
        lambda c, b, t: (b, 1, 6, 6),
        3.0,
    ),
    "vgnet": (
        atvgnet.VGNet,
        atvgnet.VGNET_PRESETS["vgnet-tiny"],
        _vgnet_inputs,
        lambda c, b, t: (b, t, 3, c.size, c.size),
        1.0,  # frames live in [-1, 1]
    ),
    "regression": (
        atvgnet.RegressionDiscriminator,
        atvgnet.REGRESSION_PRESETS["regression-tiny"],
        _regression_inputs,
        lambda c, b, t: (b, t, 68, 2),
        3.0,
    ),
    "dirfa": (
        dirfa.DIRFA,
        dirfa.PRESETS["dirfa-tiny"],
        _dirfa_inputs,
        lambda c, b, t: (b, t, c.n_params, c.bins),
        3.0,
    ),
    "temporal-gan": (
        vougioukas.TemporalGenerator,
        vougioukas.PRESETS["temporal-gan-tiny"],
        _temporal_gan_inputs,
        lambda c, b, t: (b, t, 3, c.size, c.size),
        1.0,  # frames live in [-1, 1]
    ),
    "temporal-gan-flow": (
        vougioukas.TemporalGenerator,
        vougioukas.PRESETS["temporal-gan-tiny-flow"],
        _temporal_gan_inputs,
        lambda c, b, t: (b, t, 3, c.size, c.size),
        1.0,
    ),
    "frame-d": (
        vougioukas.FrameDiscriminator,
        vougioukas.FRAME_PRESETS["frame-tiny"],
        _frame_d_inputs,
        lambda c, b, t: (b,),
        3.0,
    ),
    "sequence-d": (
        vougioukas.SequenceDiscriminator,
        vougioukas.SEQUENCE_PRESETS["sequence-tiny"],
        _sequence_d_inputs,
        lambda c, b, t: (b,),
        3.0,
    ),
    "eye-d": (
        vougioukas.EyeMotionDiscriminator,
        vougioukas.EYE_PRESETS["eye-tiny"],
        _eye_d_inputs,
        lambda c, b, t: (b,),
        3.0,
    ),
    "sync-d": (
        vougioukas.SyncDiscriminator,
        vougioukas.SYNC_PRESETS["sync-tiny"],
        _sync_d_inputs,
        lambda c, b, t: (b,),
        3.0,
    ),
}


def _build(name, seed=0):
    torch.manual_seed(seed)
    cls, config = MODELS[name][:2]
    return cls(config)


def _inputs(name, batch=2, frames=6, seed=0):
    _, config, make = MODELS[name][:3]
    return make(config, batch, frames, torch.Generator().manual_seed(seed))


def _tensors(out):
    """Every tensor a model returns (outputs, maps, recurrent state), nested tuples flattened."""
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for item in (out or ()) for t in _tensors(item)]


def _output(model, inputs):
    """The model's main output: the first tensor it returns."""
    return _tensors(model(*inputs))[0]


@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_no_nan(name):
    model = _build(name)
    out = _output(model, _inputs(name))
    assert out.shape == MODELS[name][3](model.config, 2, 6)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", MODELS)
def test_every_parameter_gets_a_gradient(name):
    model = _build(name)
    sum(t.pow(2).mean() for t in _tensors(model(*_inputs(name)))).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient for {pname}"


@pytest.mark.parametrize("name", MODELS)
def test_eval_is_deterministic_and_survives_save_load(name, tmp_path):
    from talkface.train.checkpoint import load_checkpoint, save_checkpoint
    from talkface.weights import load_model

    model = _build(name).eval()
    x = _inputs(name)
    a, b = _output(model, x), _output(model, x)
    torch.testing.assert_close(a, b)
    save_checkpoint(tmp_path / "m.pt", model)
    again = load_model(load_checkpoint(tmp_path / "m.pt"))
    assert type(again) is type(model)
    torch.testing.assert_close(a, _output(again, x))


@pytest.mark.parametrize("name", MODELS)
def test_overfits_a_small_batch(name):
    model = _build(name)
    x = _inputs(name, batch=4, frames=8, seed=1)
    # a target the architecture can express: another random instance's output, scaled up
    with torch.no_grad():
        target = MODELS[name][4] * _output(_build(name, seed=7).eval(), x)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(150):
        loss = (_output(model, x) - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# -- ATVGnet AT-net ----------------------------------------------------------------------------


def test_atnet_streaming_in_chunks_equals_one_pass():
    model = _build("atnet").eval()
    windows, identity = _inputs("atnet", batch=1, frames=10)
    full, _ = model(windows, identity)
    first, state = model(windows[:, :4], identity)
    second, _ = model(windows[:, 4:], identity, state)
    torch.testing.assert_close(torch.cat([first, second], 1), full)


def test_atnet_pca_project_reconstruct_round_trip():
    model = _build("atnet")
    k = model.config.n_components
    components, _ = torch.linalg.qr(torch.randn(136, k))
    model.set_pca(components.T, torch.randn(136), torch.rand(k) + 0.5)
    coefficients = torch.randn(3, k)
    torch.testing.assert_close(
        model.project(model.reconstruct(coefficients)),
        coefficients,
        atol=1e-4,
        rtol=1e-4,
    )


def test_atnet_port_matches_the_paper_structure():
    config = atvgnet.PRESETS["atnet-grid"]
    assert config.context == 28 and config.n_mfcc == 12  # 280 ms of MFCC c1..c12
    model = atvgnet.AudioToLandmark(config)
    convs = [m for m in model.audio_encoder if isinstance(m, torch.nn.Sequential)]
    assert len(convs) == 5 and isinstance(model.lstm, torch.nn.LSTM)
    assert np.isclose(sum(p.numel() for p in model.parameters()) / 1e6, 1.9, atol=0.2)


def test_vgnet_streams_in_chunks_and_composites_eq8():
    model = _build("vgnet").eval()
    base, landmarks, example = _inputs("vgnet", batch=1, frames=5)
    (frames, alpha, motion), _ = model(base, landmarks, example)
    torch.testing.assert_close(frames, alpha * motion + (1 - alpha) * base)
    (first, _, _), state = model(base[:, :2], landmarks[:, :2], example)
    (second, _, _), _ = model(base[:, 2:], landmarks[:, 2:], example, state)
    torch.testing.assert_close(torch.cat([first, second], 1), frames)
    # the ConvGRU carries time: the same inputs at another step give another frame
    still = base[:, :1].expand(-1, 3, -1, -1, -1)
    (out, _, _), _ = model(still, landmarks[:, :1].expand(-1, 3, -1, -1), example)
    assert not torch.allclose(out[:, 0], out[:, 2])


def test_regression_discriminator_regresses_around_the_example_landmarks():
    model = _build("regression").eval()
    frames, example = _inputs("regression", batch=2, frames=3)
    landmarks, logits = model(frames, example)
    assert logits.shape == (2,)
    assert (
        landmarks - example[:, None]
    ).abs().max() <= 1  # p_p + tanh offsets (eq. 10)


# -- speech encoders of the landmark models ----------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda summary: (
            sinha.LandmarkNet(
                sinha.LandmarkNetConfig(channels=(8, 8, 8, 8), audio_summary=summary)
            ).encoder
        ),
        lambda summary: (
            dirfa.DIRFA(
                dirfa.DIRFAConfig(
                    context=64, width=16, heads=2, layers=1, audio_summary=summary
                )
            ).audio_encoder
        ),
    ],
    ids=["sinha", "dirfa"],
)
def test_flattened_audio_summary_keeps_where_a_sound_falls(build):
    """The same click 16 feature frames earlier or later in the window: a mean over time
    encodes both alike (strided convs are shift-equivariant in steps of their total stride),
    the flattened summary tells them apart."""
    windows = torch.zeros(2, 64, 40)
    windows[0, 16], windows[1, 32] = 5.0, 5.0
    codes = {}
    for summary in ("mean", "flatten"):
        torch.manual_seed(0)
        codes[summary] = build(summary).eval()(windows.transpose(1, 2))
    torch.testing.assert_close(codes["mean"][0], codes["mean"][1])
    assert (codes["flatten"][0] - codes["flatten"][1]).abs().max() > 1e-3
    with pytest.raises(ValueError, match="audio_summary"):
        build("max")


# -- Sinha et al. ------------------------------------------------------------------------------


def test_sinha_structure_and_pca_initialised_decoder():
    from talkface.motion.params import load_motion_basis

    config = sinha.PRESETS["sinha-grid"]
    model = sinha.LandmarkNet(config)
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv1d)]
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert (
        len(convs) == 4 and config.context == 64
    )  # 16 video frames of 4 feature frames
    assert len(linears) == 3  # two decoder layers + the PCA layer
    basis = load_motion_basis()
    assert config.n_components == len(basis)  # the basis keeps 99% of the variance
    k = config.n_components
    model.set_pca(
        *(torch.from_numpy(a) for a in (basis.components, basis.mean, basis.scale))
    )
    # the PCA layer maps whitened coefficients to displacements exactly as the basis decodes
    z = torch.randn(3, k)
    expected = basis.decode(z.numpy()).reshape(3, 136)
    torch.testing.assert_close(
        model.decoder[-1](z), torch.from_numpy(expected), atol=1e-5, rtol=1e-4
    )


def test_blink_generator_is_driven_by_noise_only():
    model = _build("blinks").eval()
    (noise,) = _inputs("blinks")
    a, _ = model(noise)
    b, _ = model(torch.randn_like(noise))
    assert not torch.allclose(a, b)  # different noise, different eye motion
    assert model.config.noise_dim == sinha.BLINK_PRESETS["blink-grid"].noise_dim == 10


# -- DIRFA -------------------------------------------------------------------------------------


def test_dirfa_mask_is_causal_windowed_and_linearly_biased():
    bias = dirfa.temporal_bias(8, heads=2, tau=3)
    assert torch.isinf(bias[:, 0, 1]).all()  # no looking ahead
    assert (
        torch.isinf(bias[:, 7, 3]).all() and torch.isfinite(bias[:, 7, 4]).all()
    )  # tau
    row = bias[0, 6, 3:7]
    steps = row[1:] - row[:-1]
    assert (
        torch.allclose(steps, steps[0].expand(3)) and steps[0] > 0
    )  # linear, older lower
    assert bias[1, 6, 3] > bias[0, 6, 3]  # the heads have different slopes


def test_dirfa_frames_never_see_the_future():
    model = _build("dirfa").eval()
    windows, previous = _inputs("dirfa", batch=1, frames=6)
    out = model(windows, previous)
    changed_windows, changed_previous = windows.clone(), previous.clone()
    changed_windows[:, 4:] += 1
    changed_previous[:, 4:] += 1
    again = model(changed_windows, changed_previous)
    torch.testing.assert_close(out[:, :4], again[:, :4])
    assert not torch.allclose(out[:, 4:], again[:, 4:])


def test_dirfa_quantise_round_trip_and_top_k():
    model = _build("dirfa")
    P, D = model.config.n_params, model.config.bins
    model.set_range(-torch.ones(P), torch.ones(P))
    values = torch.rand(5, P) * 2 - 1
    centroids = model.dequantise(model.quantise(values))
    assert (
        centroids - values
    ).abs().max() <= 1 / D + 1e-6  # half a bin (bin width 2/D)
    logits = torch.randn(P, D)
    greedy = dirfa.top_k_sample(logits, torch.ones(P, dtype=torch.long))
    torch.testing.assert_close(greedy, logits.argmax(-1))
    picks = torch.stack(
        [dirfa.top_k_sample(logits, torch.full((P,), 3)) for _ in range(200)]
    )
    top3 = logits.topk(3, -1).indices
    assert all(torch.isin(picks[:, p], top3[p]).all() for p in range(P))
    assert len(torch.unique(picks[:, 0])) > 1  # k > 1 samples


def test_dirfa_expected_value_weighs_every_bin_centroid():
    model = _build("dirfa")
    P, D = model.config.n_params, model.config.bins
    low, high = -torch.arange(1, P + 1.0), torch.arange(1, P + 1.0) * 2
    model.set_range(low, high)
    uniform = model.expected(torch.zeros(P, D))
    torch.testing.assert_close(uniform, (low + high) / 2)  # the middle of each range
    peaked = torch.full((P, D), -1e4)
    peaked[torch.arange(P), torch.arange(P) % D] = 0
    torch.testing.assert_close(
        model.expected(peaked), model.dequantise(torch.arange(P) % D)
    )
    two = torch.full((P, D), -1e4)
    two[:, 0] = two[:, 1] = 0  # halfway between the first two centroids
    bin_width = (high - low) / D
    torch.testing.assert_close(model.expected(two), low + bin_width)


def test_dirfa_gaussian_bin_targets_centre_on_the_value():
    from talkface.train.dirfa import bin_loss, bin_targets

    model = _build("dirfa")
    P, D = model.config.n_params, model.config.bins
    model.set_range(-torch.ones(P), torch.ones(P))
    centroids = model.dequantise(torch.arange(D)[:, None]).T  # (P, D)
    # a tenth of a bin off interior centroids: no tail folded, no value on a bin edge
    values = model.dequantise(torch.arange(P) % (D - 4) + 2)[None] + 0.2 / D
    soft = bin_targets(model, values, sigma=0.75)
    torch.testing.assert_close(soft.sum(-1), torch.ones(1, P))
    torch.testing.assert_close((soft * centroids).sum(-1), values, atol=1e-3, rtol=0)
    nearest = soft.argmax(-1)
    torch.testing.assert_close(nearest, model.quantise(values))
    assert (soft.gather(-1, nearest[..., None]) < 0.7).all()  # spread to the neighbours
    # a narrow Gaussian is the paper's one-hot cross-entropy
    logits = torch.randn(1, P, D)
    torch.testing.assert_close(
        bin_loss(model, logits, values, 1e-4), bin_loss(model, logits, values, 0.0)
    )
    far = torch.full((1, P, D), -5.0).scatter(-1, (nearest[..., None] + 2) % D, 5.0)
    near = torch.full((1, P, D), -5.0).scatter(-1, (nearest[..., None] + 1) % D, 5.0)
    # a near miss costs less than a far one only with the Gaussian
    assert bin_loss(model, near, values, 0.75) < bin_loss(model, far, values, 0.75)
    torch.testing.assert_close(
        bin_loss(model, near, values, 0.0), bin_loss(model, far, values, 0.0)
    )


def test_dirfa_same_seed_same_animation_other_seed_differs():
    model = _build("dirfa").eval()
    windows, _ = _inputs("dirfa", batch=1, frames=12)
    k = torch.full((model.config.n_params,), 4)

    def sample(seed):
        return dirfa.generate(
            model, windows[0], k, generator=torch.Generator().manual_seed(seed)
        )

    torch.testing.assert_close(sample(1), sample(1))
    assert not torch.allclose(sample(1), sample(2))
    expected = dirfa.generate(model, windows[0], None)  # no sampling: no seed needed
    torch.testing.assert_close(expected, dirfa.generate(model, windows[0], None))


# -- Vougioukas et al. temporal GAN ------------------------------------------------------------


def test_temporal_gan_streams_and_each_input_matters():
    model = _build("temporal-gan").eval()
    still, audio, noise = _inputs("temporal-gan", batch=1, frames=6)
    identity = model.encode_identity(still)
    full, _ = model.decode(identity, audio, noise)
    first, state = model.decode(identity, audio[:, :2], noise[:, :2])
    second, _ = model.decode(identity, audio[:, 2:], noise[:, 2:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), full)
    # in training mode (batch statistics; a fresh model's running ones mute small inputs)
    model.train()
    still, audio, noise = _inputs("temporal-gan", batch=2, frames=6)
    full = model(still, audio, noise)
    for changed in (
        model(still.flip(-1), audio, noise),  # the identity's skips and code
        model(still, audio.flip(-1), noise),  # the content encoding
        model(still, audio, noise.flip(-1)),  # the noise generator
    ):
        assert (changed - full).abs().max() > 1e-3


def test_temporal_gan_port_matches_the_paper_structure():
    config = vougioukas.PRESETS["temporal-gan-grid"]
    model = vougioukas.TemporalGenerator(config)
    convs = [
        m for m in model.identity_encoder.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    assert len(convs) == 6  # 6 strided layers down to z_id (paper 001 sec. 3.1.1)
    first = model.audio_encoder.net[0]
    assert (first.kernel_size[0], first.stride[0]) == (
        80,
        16,
    )  # 5 ms kernel, 1 ms stride
    assert model.content_rnn.hidden_size == 256 and model.noise_rnn.hidden_size == 10
    assert config.noise_std**2 == pytest.approx(0.6)
    frame_d = vougioukas.FrameDiscriminator(vougioukas.FRAME_PRESETS["frame-grid"])
    layers = [m for m in frame_d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(layers) == 6 and layers[0].in_channels == 6  # frame + still condition
    still = torch.zeros(1, 3, 128, 128)
    frames = model(still, torch.zeros(1, 2, AUDIO_WINDOW), torch.zeros(1, 2, 10))
    assert frames.shape == (1, 2, 3, 128, 128)


def test_temporal_gan_attention_keeps_the_still_where_it_attends():
    model = _build("temporal-gan").eval()
    still, audio, noise = _inputs("temporal-gan", batch=1, frames=3)
    with torch.no_grad():
        model.decoder.out[0].bias[3] = 50.0  # attention 1 everywhere: the still itself
        torch.testing.assert_close(
            model(still, audio, noise), still[:, None].expand(-1, 3, -1, -1, -1)
        )
        model.decoder.out[0].bias[3] = -50.0  # attention 0: the colour map alone
        colour = model(still, audio, noise)
    assert (colour - still[:, None]).abs().mean() > 0.1
    # the paper's plain decoder (the first shipped checkpoint) still builds: 3 outputs + tanh
    plain = vougioukas.TemporalGenerator(
        vougioukas.TemporalGANConfig(size=32, channels=4)
    )
    assert plain.decoder.out[0].out_channels == 3


def test_temporal_gan_flow_moves_the_still_it_keeps():
    model = _build("temporal-gan-flow").eval()
    still, audio, noise = _inputs("temporal-gan-flow", batch=1, frames=2)
    size = model.config.size
    with torch.no_grad():
        model.decoder.out[0].bias[3] = 50.0  # attention 1: the (moved) still alone
        unmoved = model(still, audio, noise)  # a fresh flow head moves nothing
        torch.testing.assert_close(
            unmoved, still[:, None].expand(-1, 2, -1, -1, -1), atol=1e-5, rtol=0
        )
        # one pixel to the right, in grid units (2 = the width)
        model.decoder.flow.bias[0] = 2 / (size - 1) / vougioukas.FLOW_SCALE
        moved = model(still, audio, noise)
    # each pixel shows the still's pixel to its right; the last column repeats the edge
    torch.testing.assert_close(
        moved[..., :-1],
        still[:, None, ..., 1:].expand(-1, 2, -1, -1, -1),
        atol=1e-5,
        rtol=0,
    )
    torch.testing.assert_close(moved[..., -1], unmoved[..., -1], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="attention"):
        vougioukas.TemporalGANConfig(flow=True)


def test_sync_discriminator_is_a_function_of_the_embedding_distance():
    model = _build("sync-d").eval()
    video, audio = _inputs("sync-d", batch=3)
    distance = model.distance(video, audio)
    w, b = model.classify.weight.item(), model.classify.bias.item()
    torch.testing.assert_close(model(video, audio), w * distance + b)


# -- the shipped weights ---------------------------------------------------------------------


def test_every_shipped_file_matches_its_sha256_and_rebuilds():
    from talkface.models.syncnet import load_syncnet
    from talkface.registry import EVALUATORS, SHIPPED
    from talkface.weights import load_model, load_weights

    for name in SHIPPED:
        checkpoint = load_weights(name)  # checks the sha256
        # the sync expert's file predates stored architectures: its loader names it
        model = (load_syncnet if name in EVALUATORS else load_model)(checkpoint)
        assert all(torch.isfinite(p).all() for p in model.parameters()), name


def test_eye_motion_discriminator_judges_only_the_eye_bands_change():
    model = _build("eye-d").eval()
    (video,) = _inputs("eye-d", frames=8)
    with torch.no_grad():
        before = model(video)
        # a still texture under every frame (another face, a colour cast) cancels out
        still = torch.rand(1, 1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(model(video + still), before)
        mouth = video.clone()
        mouth[:, 4, :, 20:, :] += 0.5  # the lower face moves: not seen
        torch.testing.assert_close(model(mouth), before)
        lids = video.clone()
        lids[:, 4, :, 12:14, 10:22] -= 0.5  # a lid line in the eye band moves: seen
        assert (model(lids) != before).all()
