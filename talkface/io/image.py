"""Load face photos as RGB uint8 arrays, whatever their format, mode or EXIF orientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError

MAX_SIDE = 8192  # pixels; H.264 (level 6.2) encodes up to 8192 wide


def load_image(image: str | Path | np.ndarray) -> np.ndarray:
    """Read a photo into an (H, W, 3) uint8 RGB array.

    Accepts any format Pillow reads (JPEG, PNG, WebP, BMP, ...); grayscale and palette images are
    expanded to RGB, alpha is composited onto white, and the EXIF orientation is applied so the
    face is upright as a viewer sees it. An array is checked and passed through.
    """
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise TalkfaceError(
                f"image array must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}"
            )
        return image
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(image)
    try:
        with Image.open(path) as pil:
            if max(pil.size) > MAX_SIDE:
                raise TalkfaceError(
                    f"image {path} is {pil.size[0]}x{pil.size[1]}; the limit is {MAX_SIDE} px a side: resize it first"
                )
            pil = ImageOps.exif_transpose(pil)
            if pil.mode in ("RGBA", "LA", "PA") or (
                pil.mode == "P" and "transparency" in pil.info
            ):
                rgba = pil.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                pil = Image.alpha_composite(background, rgba)
            rgb = np.asarray(pil.convert("RGB"), dtype=np.uint8)
    except TalkfaceError:
        raise
    except FileNotFoundError:
        raise TalkfaceError(f"image not found: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise TalkfaceError(f"cannot read image {path}: {e}") from None
    if min(rgb.shape[:2]) < 32:
        raise TalkfaceError(
            f"image {path} is too small ({rgb.shape[1]}x{rgb.shape[0]})"
        )
    return np.ascontiguousarray(rgb)
