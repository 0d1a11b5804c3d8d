import numpy as np
import pytest

from talkface.face.landmarks import INNER_LIPS
from talkface.render.warp import WarpRenderer, mesh_triangles


@pytest.fixture(scope="module")
def crop(face_photo):
    from talkface.face.align import crop_face
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks

    landmarks = detect_landmarks(face_photo, detect_faces(face_photo)[0])
    return crop_face(face_photo, landmarks, 256)


def test_mesh_covers_the_crop_with_a_separate_mouth_interior():
    triangles = mesh_triangles(256)
    assert triangles.max() == 68 + 16 - 1  # every landmark and border anchor is used
    inner = set(INNER_LIPS.tolist())
    assert sum(all(v in inner for v in t) for t in triangles) >= 4


def test_unmoved_landmarks_keep_the_face(crop):
    renderer = WarpRenderer(crop)
    frame = renderer.warp(crop.landmarks)
    assert np.abs(frame.astype(int) - crop.image).mean() < 0.5


def test_opening_the_jaw_moves_the_chin_and_paints_a_dark_mouth(crop):
    renderer = WarpRenderer(crop)
    target = crop.landmarks.copy()
    width = np.linalg.norm(target[54] - target[48])
    drop = 0.35 * width
    lower = [5, 6, 7, 8, 9, 10, 11, 55, 56, 57, 58, 59, 65, 66, 67]
    target[lower, 1] += drop
    frame = renderer(target)
    mouth = np.zeros(frame.shape[:2], np.uint8)
    import cv2

    cv2.fillPoly(mouth, [np.round(target[INNER_LIPS]).astype(np.int32)], 1)
    inside = frame[mouth.astype(bool)].astype(float)
    # a dark cavity with bright teeth near the upper lip
    assert np.median(inside.mean(1)) < 0.6 * np.median(
        crop.image.reshape(-1, 3).mean(1)
    )
    assert inside.mean(1).max() > 150
    # the chin moved down by about the drop: the image below the old chin changed a lot
    chin = crop.landmarks[8].astype(int)
    below = (slice(chin[1], chin[1] + int(drop)), slice(chin[0] - 5, chin[0] + 5))
    assert np.abs(frame[below].astype(int) - crop.image[below]).mean() > 10


def test_shut_lids_are_painted_so_dlib_reads_them_shut(crop):
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks, eye_aspect_ratio
    from talkface.motion.blinks import close_eyelids

    renderer = WarpRenderer(crop)
    frame = renderer.warp(crop.landmarks)
    assert renderer.paint_lids(frame, crop.landmarks) is frame  # open eyes: untouched

    def dlib_ear(closure: float) -> float:
        lids = close_eyelids(crop.landmarks[None], np.array([closure]))[0]
        image = renderer(lids)
        landmarks = detect_landmarks(image, detect_faces(image)[0])
        return eye_aspect_ratio(landmarks[None])[0]

    # moved landmarks alone read 0.51x the open eye here, real shut eyes about 0.45x
    assert dlib_ear(1.0) < 0.42 * dlib_ear(0.0)


# -- neural renderer (Sinha et al. texture generator) -------------------------------------------


def _texture_model(base="warp", seed=0, regions="face"):
    import dataclasses

    import torch

    from talkface.models.sinha import TEXTURE_PRESETS, TextureGenerator

    torch.manual_seed(seed)
    config = dataclasses.replace(
        TEXTURE_PRESETS["texture-tiny"], base=base, regions=regions
    )
    return TextureGenerator(config).eval()


def test_generator_composites_attention_and_colour_onto_the_base():
    """Eq. 6: I = (1 - att) C + att I_base, exactly."""
    import torch

    model = _texture_model()
    s = model.config.size
    base = torch.rand(2, 3, s, s) * 2 - 1
    marks = (torch.rand(2, 1, s, s) > 0.9).float()
    frame, attention, colour = model(base, marks, marks.flip(-1))
    torch.testing.assert_close(frame, (1 - attention) * colour + attention * base)
    assert (
        attention.shape == (2, 1, s, s) and 0 <= attention.min() <= attention.max() <= 1
    )


def _repainting_texture_model():
    """A tiny "mouth-eyes" texture generator whose attention lets its colour map through
    wherever the region allows."""
    import torch

    model = _texture_model(regions="mouth-eyes")
    with torch.no_grad():
        model.attention.bias.fill_(-50.0)
    return model


def test_edit_regions_cover_mouth_and_eyes_and_nothing_else(crop):
    from talkface.render.neural import edit_regions

    lm = crop.landmarks
    region = edit_regions(lm[None], 256)[0]
    inside = [lm[62], lm[37:39].mean(0), lm[43:45].mean(0), lm[48], lm[57]]
    outside = [lm[30], lm[27] - [0, 20], (lm[2] + lm[31]) / 2, lm[8] + [0, 5]]
    for point, expected in [(p, 1.0) for p in inside] + [(p, 0.0) for p in outside]:
        x, y = np.round(point).astype(int)
        assert region[y, x] == pytest.approx(expected, abs=0.05), point
    # the eye region follows the lids: a shut eye's region is smaller
    shut = lm.copy()
    shut[[37, 38, 43, 44]] = shut[[41, 40, 47, 46]]
    assert edit_regions(shut[None], 256)[0].sum() < region.sum()


def test_mouth_eyes_renderers_change_the_base_only_inside_the_regions(crop):
    """regions "mouth-eyes": the maps act inside edit_regions only, in the model (training)
    and in the renderer (inference); the rest of the face is the warp's frame, exactly."""
    import dataclasses

    import cv2
    import torch

    from talkface.models.atvgnet import VGNET_PRESETS, VGNet
    from talkface.render.neural import NeuralRenderer, edit_regions

    texture = _repainting_texture_model()
    torch.manual_seed(0)
    vgnet = VGNet(VGNET_PRESETS["vgnet-tiny"]).eval()
    with torch.no_grad():  # the motion map everywhere it may
        vgnet.attention.bias.fill_(50.0)
    opened = crop.landmarks.copy()
    opened[[56, 57, 58, 65, 66, 67], 1] += 8
    # both tiny models draw the region at their size; the renderer upsamples it
    size = texture.config.size
    small = edit_regions(opened[None] * size / 256, size)[0]
    far = cv2.resize(small, (256, 256), interpolation=cv2.INTER_LINEAR) == 0
    for model in (texture, vgnet):
        renderer = NeuralRenderer(crop, model)
        out, warp = renderer.render(opened).image, renderer.warp(opened)
        np.testing.assert_array_equal(out[far], warp[far])
        assert np.abs(out[~far].astype(int) - warp[~far]).mean() > 5
        # the same weights with regions "face" change the rest of the face too
        free = type(model)(dataclasses.replace(model.config, regions="face")).eval()
        free.load_state_dict(model.state_dict())
        anywhere = NeuralRenderer(crop, free).render(opened).image
        assert np.abs(anywhere[far].astype(int) - warp[far]).mean() > 5


def test_mouth_eyes_config_needs_the_warp_base():
    from talkface.models.atvgnet import VGNetConfig
    from talkface.models.sinha import TextureGeneratorConfig

    for config in (TextureGeneratorConfig, VGNetConfig):
        with pytest.raises(ValueError, match="needs base 'warp'"):
            config(base="identity", regions="mouth-eyes")
        with pytest.raises(ValueError, match="regions must be"):
            config(regions="mouth")


@pytest.mark.parametrize("base", ["warp", "identity"])
def test_neural_renderer_at_the_photo_crop_size(crop, base):
    """The network runs at its own size; where attention is 1 the crop keeps its resolution."""
    import torch

    from talkface.render.neural import NeuralRenderer

    model = _texture_model(base)
    with (
        torch.no_grad()
    ):  # attention 1 everywhere: the base image must come back untouched
        model.attention.weight.zero_()
        model.attention.bias.fill_(50.0)
    renderer = NeuralRenderer(crop, model)
    opened = crop.landmarks.copy()
    opened[[56, 57, 58, 65, 66, 67], 1] += 8
    out = renderer.render(opened)
    assert out.image.shape == crop.image.shape and out.attention.shape == (256, 256)
    expected = renderer.warp(opened) if base == "warp" else crop.image
    np.testing.assert_array_equal(out.image, expected)


def test_mirror_augmentation_keeps_image_and_landmarks_consistent():
    from talkface.face.align import mean_face
    from talkface.features.visual import landmark_images
    from talkface.train.renderer_data import Augment, RendererTrainConfig

    cfg = RendererTrainConfig(flip_prob=1.0, gain_range=(1, 1), gamma_range=(1, 1))
    aug = Augment(cfg, np.random.default_rng(0))
    face = mean_face() * 64 + [10, 0]  # off-centre: the mirror moves it
    face[48, 0] -= 3  # and asymmetric
    drawn = landmark_images(face[None], 96)[0]
    mirrored = landmark_images(aug.landmarks(face[None], 96), 96)[0]
    flipped = aug.image(drawn[..., None].repeat(3, -1))[..., 0]
    # anti-aliased lines are not drawn exactly mirror-symmetric; a pixel off would differ by 255
    assert np.abs(flipped.astype(int) - mirrored).max() < 40


def test_texture_losses_and_pixel_mask():
    import torch

    from talkface.face.align import mean_face
    from talkface.train.texture import lsgan_loss, pixel_weights, texture_losses

    weights = pixel_weights(64, mouth=4.0, eyes=2.0)
    assert abs(weights.mean().item() - 1) < 1e-5
    mouth = (mean_face()[48:68].mean(0) * 64).astype(int)
    cheek = (mean_face()[2] * 64 + [6, 0]).astype(int)
    assert weights[0, 0, mouth[1], mouth[0]] > 3 * weights[0, 0, cheek[1], cheek[0]]

    frames = torch.zeros(2, 2, 3, 64, 64)
    att = torch.ones(2, 2, 1, 64, 64)
    colour = torch.zeros(2, 2, 3, 64, 64)
    real = frames.clone()
    zero = texture_losses(frames, att, colour, real, weights)
    assert all(v.item() == 0 for v in zero.values())
    real[:, :, :, mouth[1], mouth[0]] = 1.0  # an error in the mouth costs more ...
    at_mouth = texture_losses(frames, att, colour, real, weights)["pixel"]
    real = frames.clone()
    real[:, :, :, cheek[1], cheek[0]] = 1.0  # ... than the same error on the cheek
    assert at_mouth > 3 * texture_losses(frames, att, colour, real, weights)["pixel"]
    att[:, 1] = (
        0.5  # attention that drops and flickers is penalised by both regularisers
    )
    terms = texture_losses(frames, att, colour, frames, weights)
    assert terms["attention"] > 0 and terms["temporal"] > 0
    scores = torch.full((4, 1, 3, 3), 1.0)
    assert lsgan_loss(scores, True) == 0 and lsgan_loss(scores, False) == 0.5


def test_renderers_alone_are_measured_against_the_still_and_real_frames(grid_cache):
    """Real landmarks of a real clip: the warp follows the mouth (LMD below the still
    photo's), the real crops are the floor, and every system is scored on the same clip."""
    from talkface.eval.renderers import evaluate_renderers

    sets = {"s1-train": ("s1", "train")}
    results = evaluate_renderers(
        grid_cache, {"warp": WarpRenderer}, sets, limit=1, progress=False
    )["s1-train"]
    assert set(results) == {"static", "warp", "real"}
    static, warp, real = (results[k]["mean"] for k in ("static", "warp", "real"))
    assert real["ssim"] == 1 and real["lmd_mouth"] == 0
    assert warp["lmd_mouth"] < 0.9 * static["lmd_mouth"]
    assert warp["ssim"] > static["ssim"]
    assert 0 < real["identity"] < warp["identity"]


def test_vgnet_losses_detach_attention_and_weight_the_mouth():
    import torch

    from talkface.train.vgnet import (
        dynamic_pixel_loss,
        landmark_weights,
        regression_loss,
    )

    frames = torch.zeros(1, 2, 3, 8, 8, requires_grad=True)
    alpha = torch.full((1, 2, 1, 8, 8), 0.5, requires_grad=True)
    real = torch.ones(1, 2, 3, 8, 8)
    loss = dynamic_pixel_loss(frames, real, alpha, beta=0.5)
    assert loss.item() == 1.0  # |0 - 1| * (0.5 + 0.5)
    loss.backward()
    assert alpha.grad is None and frames.grad.abs().sum() > 0  # eq. 9: alpha detached
    weights = landmark_weights(100.0)
    target = torch.zeros(1, 1, 68, 2)
    lip = target.clone()
    lip[..., 57, 1] = 0.01  # lower lip 1% of the crop lower
    brow = target.clone()
    brow[..., 19, 1] = 0.01
    assert regression_loss(lip, target, weights) == 1e4 * regression_loss(
        brow, target, weights
    )


def test_stateful_renderer_frames_come_out_the_same_in_any_order(crop):
    """VG-net carries its ConvGRU state: InOrder replays from frame 0 when asked out of order,
    so a frame is the same whether it is rendered first or after its predecessors."""
    import torch

    from talkface.models.atvgnet import VGNET_PRESETS, VGNet
    from talkface.render.neural import InOrder, NeuralRenderer

    torch.manual_seed(0)
    renderer = NeuralRenderer(crop, VGNet(VGNET_PRESETS["vgnet-tiny"]))
    assert renderer.stateful
    targets = np.repeat(crop.landmarks[None], 4, 0)
    targets[:, 57, 1] += np.arange(4) * 3
    in_order = InOrder(renderer, targets, renderer.reset)
    sequence = [in_order(i) for i in range(4)]
    np.testing.assert_array_equal(in_order(2), sequence[2])
    np.testing.assert_array_equal(in_order(3), sequence[3])
    assert not np.array_equal(sequence[0], sequence[3])


def test_renderer_recipes_train_inside_the_regions(crop):
    """Both recipes hand the models the region of each target frame, so a "mouth-eyes" model
    learns under the same constraint it renders with."""
    import cv2
    import torch

    from talkface.models.atvgnet import VGNET_PRESETS, VGNet
    from talkface.render.neural import edit_regions
    from talkface.train.renderer_data import RendererBatch
    from talkface.train.texture import generate_pairs
    from talkface.train.vgnet import model_inputs

    texture = _repainting_texture_model()
    s = texture.config.size
    image = cv2.resize(crop.image, (s, s), interpolation=cv2.INTER_AREA)
    marks = crop.landmarks * s / 256
    # (1, 2, s, s, 3): a base that differs between the pair's frames
    warps = np.stack([image, image[:, ::-1]])[None]
    batch = RendererBatch(
        image[None], marks[None], warps, np.stack([marks] * 2)[None], warps
    )
    frames, attention, colour = generate_pairs(texture, texture.config, batch)
    far = torch.from_numpy(edit_regions(marks[None], s)[0] == 0)
    base = torch.from_numpy(warps[0]).float().movedim(-1, 1) / 127.5 - 1
    torch.testing.assert_close(frames[0][:, :, far], base[:, :, far])
    assert (attention[0, :, 0][:, ~far] < 0.5).any()

    vgnet = VGNet(VGNET_PRESETS["vgnet-tiny"])
    region = model_inputs(vgnet.config, batch)[3]
    assert region.shape == (1, 2, 1, s, s)
    torch.testing.assert_close(
        region[0, 0, 0], torch.from_numpy(edit_regions(marks[None], s)[0])
    )


def test_blink_share_starts_renderer_samples_at_shut_eyes():
    """Shut lids are rare in GRID; `blink_share` of the samples start at one, the rest anywhere."""
    from talkface.face.align import mean_face
    from talkface.face.landmarks import eye_aspect_ratio
    from talkface.train.renderer_data import RendererTrainConfig, make_batch

    size, frames = 64, 30
    points = np.repeat(mean_face()[None] * size, frames, 0)
    points[12, [37, 38, 43, 44]] = points[12, [41, 40, 47, 46]]  # one shut frame
    clip = {
        "crops": np.random.default_rng(0).integers(
            0, 255, (frames, size, size, 3), np.uint8
        ),
        "crop_landmarks": points,
    }

    def starts_shut(share: float) -> np.ndarray:
        cfg = RendererTrainConfig(batch_size=16, blink_share=share)
        batch = make_batch([clip], cfg, size, np.random.default_rng(1), length=2)
        return eye_aspect_ratio(batch.landmarks[:, 0]) < 0.5 * eye_aspect_ratio(
            points[0]
        )

    assert starts_shut(1.0).all()
    assert starts_shut(0.0).sum() <= 3
