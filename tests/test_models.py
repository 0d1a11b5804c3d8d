import numpy as np
import pytest
import torch

from talkface.models.audio2landmark import PRESETS, AudioToLandmark


def _inputs(config, batch=2, frames=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, frames, config.context, config.n_mfcc, generator=g),
        torch.randn(batch, config.n_components, generator=g),
    )


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return AudioToLandmark(PRESETS["tiny"])


def test_forward_shape_no_nan(tiny):
    out, (h, c) = tiny(*_inputs(tiny.config))
    assert out.shape == (2, 6, tiny.config.n_components)
    assert torch.isfinite(out).all()
    assert tiny.reconstruct(out).shape == (2, 6, 68, 2)


def test_every_parameter_gets_a_gradient(tiny):
    out, _ = tiny(*_inputs(tiny.config))
    out.pow(2).mean().backward()
    for name, p in tiny.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient for {name}"


def test_eval_is_deterministic_and_survives_save_load(tiny, tmp_path):
    from talkface.models.audio2landmark import load_audio2landmark
    from talkface.train.checkpoint import load_checkpoint, save_checkpoint

    tiny.eval()
    x = _inputs(tiny.config)
    a, _ = tiny(*x)
    b, _ = tiny(*x)
    torch.testing.assert_close(a, b)
    save_checkpoint(tmp_path / "m.pt", tiny)
    c, _ = load_audio2landmark(load_checkpoint(tmp_path / "m.pt"))(*x)
    torch.testing.assert_close(a, c)


def test_streaming_in_chunks_equals_one_pass(tiny):
    tiny.eval()
    windows, identity = _inputs(tiny.config, batch=1, frames=10)
    full, _ = tiny(windows, identity)
    first, state = tiny(windows[:, :4], identity)
    second, _ = tiny(windows[:, 4:], identity, state)
    torch.testing.assert_close(torch.cat([first, second], 1), full)


def test_pca_project_reconstruct_round_trip(tiny):
    k = tiny.config.n_components
    basis, _ = torch.linalg.qr(torch.randn(136, k))
    tiny.set_pca(basis, torch.randn(136), torch.rand(k) + 0.5)
    coefficients = torch.randn(3, k)
    torch.testing.assert_close(
        tiny.project(tiny.reconstruct(coefficients)), coefficients, atol=1e-4, rtol=1e-4
    )


def test_overfits_a_small_batch():
    torch.manual_seed(0)
    model = AudioToLandmark(PRESETS["tiny"])
    windows, identity = _inputs(model.config, batch=4, frames=8, seed=1)
    target = torch.randn(
        4, 8, model.config.n_components, generator=torch.Generator().manual_seed(2)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(150):
        out, _ = model(windows, identity)
        loss = (out - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_port_matches_the_paper_structure():
    config = PRESETS["atnet-grid"]
    assert (
        config.context == 28 and config.n_mfcc == 12
    )  # 280 ms of MFCC c1..c12 (paper 004 sec. 4)
    model = AudioToLandmark(config)
    convs = [m for m in model.audio_encoder if isinstance(m, torch.nn.Sequential)]
    assert len(convs) == 5 and isinstance(model.lstm, torch.nn.LSTM)
    assert np.isclose(sum(p.numel() for p in model.parameters()) / 1e6, 1.9, atol=0.2)
