import numpy as np

from talkface.face.align import apply_affine, mean_face
from talkface.face.landmarks import eye_aspect_ratio
from talkface.motion.blinks import close_eyelids
from talkface.motion.retarget import retarget, retarget_matrix


def _rotation(angle, scale):
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def test_retarget_zero_motion_is_the_person():
    person = mean_face() * 300 + 20
    out = retarget(np.zeros((5, 68, 2), np.float32), person)
    np.testing.assert_allclose(out, np.repeat(person[None], 5, 0), atol=1e-4)


def test_retarget_follows_the_face_rotation_and_size():
    linear = _rotation(0.5, 240.0)
    person = apply_affine(np.hstack([linear, [[50], [80]]]), mean_face())
    delta = np.zeros((1, 68, 2), np.float32)
    delta[0, 57, 1] = 0.05  # chin of the lower lip moves down in canonical units
    moved = retarget(delta, person)[0]
    expected = linear @ np.array([0.0, 0.05])
    np.testing.assert_allclose(moved[57] - person[57], expected, rtol=1e-3)
    np.testing.assert_allclose(moved[:57], person[:57], atol=1e-4)


def test_retarget_stretches_with_face_proportions():
    long_face = mean_face() * np.array([200.0, 300.0])
    m = retarget_matrix(long_face)
    vertical = np.linalg.norm(m @ [0, 1])
    horizontal = np.linalg.norm(m @ [1, 0])
    assert vertical / horizontal > 1.3  # a 1.5x longer face opens its jaw further


def _rendered_blink_stats(rate, seeds=3, seconds=120):
    """Blink statistics the EAR detector finds on the learned blinks, as dlib sees eyelids:
    with its frame-to-frame jitter (a flat trace has no peaks for the detector to end on)."""
    import torch

    from talkface.eval.blinks import blink_stats
    from talkface.motion.blinks import blink_motion
    from talkface.motion.params import closure_to_ear
    from talkface.weights import load_model, load_weights

    model = load_model(load_weights("blink-grid"))
    traces = []
    for seed in range(seeds):
        _, closure = blink_motion(
            model, 25 * seconds, 25, rate, torch.Generator().manual_seed(seed)
        )
        jitter = np.random.default_rng(seed).normal(0, 0.003, len(closure))
        traces.append(closure_to_ear(closure) + jitter)
    return blink_stats(traces, 25)


# GRID s1 `train`, the same detector on the real video (docs/models/blink-grid.md)
GRID_BLINK_RATE, GRID_BLINK_DURATION = 0.507, 0.32


def test_learned_blinks_match_grid_rate_and_duration():
    stats = _rendered_blink_stats(None)
    assert abs(stats["rate"] / GRID_BLINK_RATE - 1) <= 0.3
    assert abs(stats["median_duration"] / GRID_BLINK_DURATION - 1) <= 0.3


def test_short_videos_blink_at_the_steady_rate():
    """The generator's own first second hardly blinks (3 s clips taught it that); the warm-up
    it runs before the first frame gives a 3 s video the rate of a long one."""
    import torch

    from talkface.motion.blinks import natural_rate, spontaneous_motion
    from talkface.weights import load_model, load_weights

    model = load_model(load_weights("blink-grid"))
    generator = torch.Generator().manual_seed(0)
    clips = [spontaneous_motion(model, 75, generator)[2] for _ in range(300)]
    rate = sum(len(blinks) for blinks in clips) / (300 * 3.0)
    assert abs(rate / natural_rate(model) - 1) < 0.12


def test_blink_rate_control():
    rates = [_rendered_blink_stats(r, seeds=2)["rate"] for r in (0.0, 0.2, 1.0)]
    assert rates[0] == 0 and 0 < rates[1] < 0.5 * rates[2]


def test_retiming_keeps_blinks_and_scales_gaps():
    from talkface.eval.blinks import Blink
    from talkface.motion.blinks import retime_blinks

    closure = np.zeros(100, np.float32)
    closure[20:25] = closure[60:65] = [0.3, 0.8, 1.0, 0.8, 0.3]
    blinks = [Blink(20, 25), Blink(60, 65)]
    twice = retime_blinks(closure, blinks, 60, 2.0)  # gaps 20 -> 10 and 35 -> 18 frames
    np.testing.assert_array_equal(twice[10:15], closure[20:25])
    np.testing.assert_array_equal(twice[33:38], closure[60:65])
    assert retime_blinks(closure, blinks, 60, 0.0).max() == 0


def test_eyelids_close_with_closure():
    face = np.repeat(mean_face()[None] * 256, 3, 0)
    out = close_eyelids(face, np.array([0.0, 0.5, 1.0], np.float32))
    ear = eye_aspect_ratio(out)
    assert abs(ear[0] - eye_aspect_ratio(face[0])) < 1e-6
    assert ear[2] < 0.02 < ear[1] < ear[0]


def test_head_sway_is_slow_continuous_across_chunks_and_has_the_set_strength():
    import torch

    from talkface.motion.sway import SWAY_STD, HeadSway

    whole = HeadSway(25.0, torch.Generator().manual_seed(0))(20000)
    np.testing.assert_allclose(whole.std(0), SWAY_STD, rtol=0.15)
    steps = np.percentile(np.abs(np.diff(whole, axis=0)), 99, axis=0)
    assert np.all(steps < 0.15 * SWAY_STD)  # slow: no jumps between frames
    chunked = HeadSway(25.0, torch.Generator().manual_seed(0))
    parts = np.concatenate([chunked(n) for n in (7, 300, 1693)])
    np.testing.assert_allclose(parts, whole[:2000], atol=1e-6)
    assert np.all(np.abs(whole[0]) < 0.05 * SWAY_STD)  # starts at the photo's pose
    settled = HeadSway(25.0, torch.Generator().manual_seed(1), settled=True)(1)
    assert np.abs(settled[0] / SWAY_STD).max() > 0.1  # a loop starts mid-sway


def test_idle_loop_is_seamless():
    from talkface.motion.idle import make_loop

    track = np.cumsum(np.random.default_rng(0).standard_normal((130, 3)), 0)
    loop = make_loop(track, 100, 30)
    np.testing.assert_array_equal(loop[30:], track[30:100])  # untouched after the fade
    np.testing.assert_allclose(loop[0], track[100])  # frame 99 flows into frame 0
    wrap = np.abs(loop[0] - loop[-1]).max()
    assert wrap <= np.abs(np.diff(track, axis=0)).max()
