"""How far a flow decoder (preset `temporal-gan-grid-flow`) moves the still, and how much it
paints, beside the warp renderer's landmark motion that teaches it.

    python scripts/temporal_gan_flow.py runs/tg-flow-teach/last.pt [--cache cache/grid]

For two clips each of s1 `train`, s26 and s31 (the clip's first frame as the still, its audio,
drawn noise, 40 frames): the flow's size in pixels over the eye band and the mouth (mean, max),
and the paint share 1 - attention there; then the teacher's size (`--flow-weight`: the warp
renderer's motion from a random still of the clip to each frame) over the same regions on a
batch of s1 `train` samples (mean, 99th percentile).
"""

import argparse

import numpy as np
import torch

from talkface.render.neural import to_model_range
from talkface.train import temporal_gan as recipe
from talkface.train.renderer_data import load_crops
from talkface.weights import load_model, load_weights

SETS = (("train", "s1"), ("val", "s26"), ("val", "s31"))
FRAMES = 40


def regions(size: int) -> dict[str, tuple[slice, slice]]:
    """The eye band and the mouth of an aligned crop (rows, columns)."""
    cut = lambda a, b: slice(int(a * size), int(b * size))  # noqa: E731
    return {
        "eyes": (cut(0.30, 0.45), cut(0.25, 0.75)),
        "mouth": (cut(0.62, 0.86), cut(0.31, 0.69)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "checkpoint", help="a run's last.pt or best.pt with a flow decoder"
    )
    parser.add_argument("--cache", default="cache/grid")
    args = parser.parse_args()

    generator = load_model(load_weights(args.checkpoint))
    if not getattr(generator.config, "flow", False):
        parser.error(f"{args.checkpoint} has no flow decoder")
    size = generator.config.size
    pixels = (size - 1) / 2  # grid units -> pixels
    print(
        "| speaker | flow, eyes mean / max px | flow, mouth mean / max px | paint eyes / mouth |"
    )
    print("|---|---|---|---|")
    for split, speaker in SETS:
        clips = load_crops(
            args.cache, split, size, speakers=(speaker,), limit=2, extra=("wav",)
        )
        recipe.with_audio(clips)
        for clip in clips:
            still = to_model_range(clip["crops"][:1])
            audio = torch.from_numpy(clip["audio"][:FRAMES])[None]
            noise = generator.sample_noise(
                1, len(audio[0]), torch.Generator().manual_seed(0)
            )
            with torch.no_grad():
                _, maps = generator(still, audio, noise, maps=True)
            flow = maps["flow"][0].norm(dim=1) * pixels  # (T, S, S)
            paint = 1 - maps["attention"][0, :, 0]
            cells = []
            for rows, cols in regions(size).values():
                cells.append(
                    f"{flow[:, rows, cols].mean():.2f} / {flow[:, rows, cols].amax():.2f}"
                )
            paints = [f"{paint[:, r, c].mean():.3f}" for r, c in regions(size).values()]
            print(f"| {speaker} | {cells[0]} | {cells[1]} | {' / '.join(paints)} |")

    clips = load_crops(args.cache, "train", size, limit=20, extra=("wav",))
    recipe.with_audio(clips)
    cfg = recipe.TemporalGANTrainConfig(
        model="temporal-gan-grid-flow", flow_weight=1.0, batch_size=16
    )
    teacher = recipe.make_batch(clips, cfg, np.random.default_rng(0)).flow
    magnitude = (teacher.norm(dim=2) * pixels).numpy()
    for name, (rows, cols) in regions(size).items():
        values = magnitude[..., rows, cols]
        print(
            f"teacher, {name}: mean {values.mean():.2f} px, "
            f"99th percentile {np.percentile(values, 99):.2f} px"
        )


if __name__ == "__main__":
    main()
