import numpy as np
import pytest
from PIL import Image

from talkface.errors import TalkfaceError
from talkface.io.image import load_image


@pytest.fixture(scope="module")
def rgb():
    y, x = np.mgrid[0:60, 0:80]
    return np.stack([x * 3, y * 4, (x + y) * 2], -1).astype(np.uint8)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_formats(tmp_path, rgb, fmt):
    path = tmp_path / f"img.{fmt.lower()}"
    Image.fromarray(rgb).save(
        path, format=fmt, quality=100
    ) if fmt != "BMP" else Image.fromarray(rgb).save(path)
    out = load_image(path)
    assert out.shape == (60, 80, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).mean() < 3


def test_grayscale_and_rgba(tmp_path, rgb):
    Image.fromarray(rgb[..., 0]).save(tmp_path / "g.png")
    gray = load_image(tmp_path / "g.png")
    assert gray.shape == (60, 80, 3) and (gray[..., 0] == gray[..., 2]).all()
    rgba = np.concatenate([rgb, np.full((60, 80, 1), 255, np.uint8)], -1)
    rgba[:, :40, 3] = 0  # left half transparent -> white
    Image.fromarray(rgba).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert (out[:, :40] == 255).all()
    np.testing.assert_array_equal(out[:, 40:], rgb[:, 40:])


def test_exif_rotation_is_applied(tmp_path, rgb):
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    img.save(tmp_path / "r.jpg", exif=exif, quality=100)
    out = load_image(tmp_path / "r.jpg")
    assert out.shape == (80, 60, 3)
    upright = np.rot90(rgb, k=-1)
    assert np.abs(out.astype(int) - upright).mean() < 3


def test_errors(tmp_path):
    with pytest.raises(TalkfaceError, match="not found"):
        load_image(tmp_path / "missing.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(TalkfaceError, match="bad.jpg"):
        load_image(bad)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(TalkfaceError, match="too small"):
        load_image(tmp_path / "tiny.png")


def test_huge_image_is_refused_before_decoding(tmp_path):
    Image.new("RGB", (9000, 40)).save(tmp_path / "wide.png")
    with pytest.raises(TalkfaceError, match="9000x40"):
        load_image(tmp_path / "wide.png")
