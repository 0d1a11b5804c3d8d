"""What the landmark -> frame renderers of both papers composite onto, and where."""


def check_base_and_regions(base: str, regions: str) -> None:
    """The compositing choices of the neural renderers (sinha.py's and atvgnet.py's configs)."""
    if base not in ("identity", "warp"):
        raise ValueError(f"base must be 'identity' or 'warp', got {base!r}")
    if regions not in ("face", "mouth-eyes"):
        raise ValueError(f"regions must be 'face' or 'mouth-eyes', got {regions!r}")
    if regions == "mouth-eyes" and base != "warp":
        raise ValueError(
            "regions 'mouth-eyes' needs base 'warp' (the face moves outside)"
        )
