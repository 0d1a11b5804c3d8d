"""The temporal GAN's learned noise prior: its likelihood, what it learns, how it is drawn, and
the recipe that fits it to a noise encoder's codes."""

import csv

import numpy as np
import pytest
import torch

from talkface.models.vougioukas import (
    NOISE_ENCODER_PRESETS,
    PRESETS,
    NoiseEncoder,
    NoisePrior,
    TemporalGenerator,
)
from talkface.render.temporal_gan import NoiseTrack
from talkface.train import noise_prior as recipe


def test_mixture_nll_matches_the_density_written_out():
    from scipy.stats import norm

    means = np.array([[0.0, 1.0], [2.0, -1.0]])
    log_std = np.array([[0.0, -0.5], [0.4, 0.1]])
    weights = np.exp([0.3, -0.5]) / np.exp([0.3, -0.5]).sum()
    density = sum(
        w
        * norm.pdf(0.5, means[k, 0], np.exp(log_std[k, 0]))
        * norm.pdf(0.2, means[k, 1], np.exp(log_std[k, 1]))
        for k, w in enumerate(weights)
    )
    nll = recipe.mixture_nll(
        torch.tensor([[0.3, -0.5]]),
        torch.tensor(means[None], dtype=torch.float32),
        torch.tensor(log_std[None], dtype=torch.float32),
        torch.tensor([[0.5, 0.2]]),
    )
    assert nll.item() == pytest.approx(-np.log(density), rel=1e-5)


def _blinky_codes(n, frames=40, seed=0):
    """(n, frames, 3) codes near 0 with 'blinks': 3-frame runs of +2 in dimension 0 starting
    with probability 1/20 a frame (none overlapping)."""
    rng = np.random.default_rng(seed)
    codes = 0.1 * rng.standard_normal((n, frames, 3))
    for seq in codes:
        t = 0
        while t < frames:
            if rng.random() < 1 / 20:
                seq[t : t + 3, 0] += 2.0
                t += 4
            else:
                t += 1
    return torch.tensor(codes, dtype=torch.float32)


def _runs(high: np.ndarray) -> list[int]:
    """Lengths of the runs of True in each row of a (N, T) bool array."""
    lengths = []
    for row in high:
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0]))
        lengths += list(edges[1::2] - edges[::2])
    return lengths


def test_the_prior_learns_rare_runs_that_independent_gaussians_never_draw():
    """Fitted to codes with rare 3-frame excursions, its draws hold as many excursions as the
    codes, in runs of about 3 frames: a GRU over the frames before, not one Gaussian each."""
    torch.manual_seed(0)
    prior = NoisePrior(noise_dim=3, hidden=32, components=3)
    optimizer = torch.optim.Adam(prior.parameters(), lr=1e-2)
    codes = _blinky_codes(256)
    first = recipe.prior_nll(prior, codes).item()
    for _ in range(300):
        loss = recipe.prior_nll(prior, codes[torch.randint(256, (64,))])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert recipe.prior_nll(prior, codes).item() < first - 3
    drawn, _ = prior.sample(400, 40, torch.Generator().manual_seed(1))
    real_high = (codes[..., 0] > 1).numpy()
    high = (drawn[..., 0] > 1).numpy()
    assert high.mean() == pytest.approx(real_high.mean(), rel=0.3)
    assert np.mean(_runs(high)) == pytest.approx(3.0, abs=0.6)
    # the paper's noise with the codes' variance: as many high frames only by far wider spread
    gaussian = codes[..., 0].std() * torch.randn(400, 40, generator=torch.Generator())
    assert np.mean(_runs((gaussian > 1).numpy())) < 1.6


def test_every_prior_weight_learns_from_the_likelihood():
    torch.manual_seed(0)
    prior = NoisePrior(noise_dim=3, hidden=8, components=2)
    recipe.prior_nll(prior, _blinky_codes(4)).backward()
    for name, p in prior.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def _prior_generator(seed=0):
    torch.manual_seed(seed)
    config = PRESETS["temporal-gan-tiny"]
    from dataclasses import replace

    return TemporalGenerator(replace(config, prior_hidden=8, prior_components=2)).eval()


def test_noise_from_the_prior_is_the_same_however_it_is_taken_and_survives_save_load(
    tmp_path,
):
    from talkface.train.checkpoint import load_checkpoint, save_checkpoint
    from talkface.weights import load_model

    model = _prior_generator()
    whole = NoiseTrack(model, torch.Generator().manual_seed(4)).take(60)
    track = NoiseTrack(model, torch.Generator().manual_seed(4))
    pieces = torch.cat([track.take(n) for n in (5, 1, 30, 0, 24)], 1)
    torch.testing.assert_close(pieces, whole, rtol=0, atol=0)
    # the second block continues the first: the prior's state is carried from block to block
    rng = torch.Generator().manual_seed(4)
    first, state = model.draw_noise(1, 25, rng)
    second, _ = model.draw_noise(1, 25, rng, state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole[:, :50])
    save_checkpoint(tmp_path / "g.pt", model)
    again = load_model(load_checkpoint(tmp_path / "g.pt"))
    torch.testing.assert_close(
        NoiseTrack(again, torch.Generator().manual_seed(4)).take(60), whole
    )
    other = NoiseTrack(model, torch.Generator().manual_seed(5)).take(60)
    assert (other - whole).abs().max() > 0.1


def test_the_recipe_fits_a_prior_into_the_generator_it_was_given(tmp_path, grid_cache):
    """End to end on real clips: the generator's other weights stay as they were, the prior's
    likelihood of held-out codes improves, and the run's checkpoint is a temporal GAN the
    pipeline loads."""
    import talkface
    from talkface.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    base = TemporalGenerator(PRESETS["temporal-gan-tiny"])
    encoder = NoiseEncoder(NOISE_ENCODER_PRESETS["noise-encoder-tiny"])
    save_checkpoint(
        tmp_path / "gan.pt",
        base,
        noise_encoder=encoder.state_dict(),
        train_config={"noise_encoder": "noise-encoder-tiny"},
    )
    cfg = recipe.NoisePriorTrainConfig(
        generator=str(tmp_path / "gan.pt"),
        cache=str(grid_cache),
        out=str(tmp_path / "run"),
        hidden=8,
        components=2,
        epochs=3,
        steps_per_epoch=30,
        batch_size=4,
        held_out=2,
        val_speakers=(),
    )
    best = recipe.train(cfg, progress=False)
    with open(tmp_path / "run" / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    nll = [float(row["s1_held_out_nll"]) for row in rows]
    assert len(nll) == 3 and nll[-1] < nll[0]
    # the paper's noise scores the same codes each epoch: the prior is measured against it
    assert len({row["s1_held_out_paper_nll"] for row in rows}) == 1
    pipe = talkface.load_pipeline(str(best))
    assert pipe.model.noise_prior is not None
    fitted = pipe.model.state_dict()
    for name, value in base.state_dict().items():
        torch.testing.assert_close(fitted[name], value, rtol=0, atol=0)
    # a generator without an encoder cannot be fitted
    save_checkpoint(tmp_path / "plain.pt", base)
    with pytest.raises(ValueError, match="noise encoder"):
        recipe.train(
            recipe.NoisePriorTrainConfig(
                generator=str(tmp_path / "plain.pt"), out=str(tmp_path / "x")
            ),
            progress=False,
        )


def test_the_papers_noise_likelihood_is_the_gaussian_density():
    from scipy.stats import norm

    codes = torch.tensor([[[0.3, -1.2], [0.0, 0.5]]])
    expected = -norm.logpdf(codes.numpy(), scale=0.6**0.5).sum(-1).mean()
    assert recipe.gaussian_nll(codes, 0.6**0.5) == pytest.approx(expected, rel=1e-6)
