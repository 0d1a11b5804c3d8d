"""Can a temporal GAN draw the blinks its noise encoder asks for, and does drawn noise blink?

    python scripts/temporal_gan_coded_blinks.py runs/tg-enc/last.pt [--cache cache/grid]

For a run trained with `--encoder-weight` (the noise encoder, BicycleGAN's cVAE path): for each
clip of the sets (the clip's first frame as the still, its audio), the generator's crops from
(a) the real clip's encoded noise (the encoder's mean) and (b) drawn noise (a seed per clip),
and the blinks per second the protocol's EAR detector finds in them, next to the real crops'.
(a) says whether the generator has learnt to draw blinks from its noise, (b) whether the noise
it draws at inference makes them. The EAR traces' correlation with the real one's says how
closely the eyes follow the real eyes (only encoded noise can know when they close); a blink's
depth (its lowest EAR over the open eye's, the median of each column's blinks) how far the lids
close. A checkpoint with a learned noise prior draws its noise from the prior.
`--strip PREFIX` saves, per set, for the first clip in which the detector finds a real blink,
the eye band of 12 frames around it (PREFIX-SET.png): real, from encoded noise, from drawn
noise (rows).
"""

import argparse

import cv2
import numpy as np
import torch

from talkface.eval.blinks import blink_depths, blink_stats, detect_blinks
from talkface.eval.protocol import GRID_SETS
from talkface.models.vougioukas import NOISE_ENCODER_PRESETS, NoiseEncoder
from talkface.render.neural import to_model_range
from talkface.render.temporal_gan import GANStream
from talkface.train import temporal_gan as recipe
from talkface.train.renderer_data import load_crops
from talkface.weights import load_model, load_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "checkpoint", help="a run's last.pt or best.pt (with an encoder)"
    )
    parser.add_argument(
        "--encoder",
        help="the run checkpoint holding the noise encoder, when `checkpoint` has none "
        "(a fitted noise prior's, or shipped weights)",
    )
    parser.add_argument("--cache", default="cache/grid")
    parser.add_argument(
        "--sets", nargs="+", default=list(GRID_SETS), choices=list(GRID_SETS)
    )
    parser.add_argument("--limit", type=int, default=10, help="clips per set")
    parser.add_argument(
        "--strip", help="PNG path prefix: 12 frames around a real blink, per set"
    )
    args = parser.parse_args()

    generator = load_model(load_weights(args.checkpoint)).eval()
    state = load_weights(args.encoder or args.checkpoint)
    if "noise_encoder" not in state:
        parser.error(f"{args.encoder or args.checkpoint} holds no noise encoder")
    encoder = NoiseEncoder(
        NOISE_ENCODER_PRESETS[state["train_config"]["noise_encoder"]]
    )
    encoder.load_state_dict(state["noise_encoder"])
    encoder.eval()
    print(f"{args.checkpoint}: blinks per second")
    print(
        "| set | clips | real | from encoded noise | from drawn noise "
        "| EAR corr, encoded | EAR corr, drawn | depth real / encoded / drawn |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        speaker, split = GRID_SETS[name]
        clips = load_crops(
            args.cache,
            split,
            128,
            speakers=(speaker,),
            limit=args.limit,
            extra=("wav",),
        )
        recipe.with_audio(clips)
        rows, depths = [], [[], [], []]
        strip = args.strip and f"{args.strip}-{name}.png"
        for i, clip in enumerate(clips):
            fps, crops = float(clip["fps"]), clip["crops"]
            with torch.no_grad():
                coded = encoder(to_model_range(crops)[None])[0]
            drawn_noise = generator.sample_noise(
                1, len(crops), torch.Generator().manual_seed(i)
            )
            from_codes, drawn = (
                GANStream(generator, crops[0])(clip["audio"], noise)
                for noise in (coded, drawn_noise)
            )
            ears = [recipe.crop_ear(v) for v in (crops, from_codes, drawn)]
            if any(e is None for e in ears):
                continue
            if strip and save_strip(strip, ears[0], crops, from_codes, drawn):
                strip = None  # one a set
            for found, ear in zip(depths, ears):
                found += blink_depths(ear)
            rows.append(
                [blink_stats([e], fps)["rate"] for e in ears]
                + [np.corrcoef(ears[0], e)[0, 1] for e in ears[1:]]
            )
        if not rows:
            print(f"| {name} | 0 (no face found in every video) | | | | | | |")
            continue
        real, from_codes, drawn, coded_corr, drawn_corr = np.mean(rows, 0)
        depth = " / ".join(f"{np.median(d):.2f}" if d else "-" for d in depths)
        print(
            f"| {name} | {len(rows)} | {real:.2f} | {from_codes:.2f} | {drawn:.2f} "
            f"| {coded_corr:.2f} | {drawn_corr:.2f} | {depth} |"
        )


def save_strip(path: str, real_ear, real, from_codes, drawn) -> bool:
    """The eye band of 12 frames from just before the clip's first real blink (in its EAR
    trace), twice as big, a row per video; False if the real crops show no blink."""
    blinks = detect_blinks(real_ear)
    if not blinks:
        return False
    start = int(np.clip(blinks[0].start - 2, 0, len(real) - 12))
    size = real.shape[1]
    band = (
        slice(size // 4, size // 2 + size // 16),
        slice(size // 8, size - size // 8),
    )
    rows = [
        np.concatenate([f[band] for f in v[start : start + 12]], 1)
        for v in (real, from_codes, drawn)
    ]
    strip = cv2.resize(np.concatenate(rows, 0), None, fx=2, fy=2)
    cv2.imwrite(path, cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
    print(f"{path}: frames {start}-{start + 11}, rows real / encoded / drawn noise")
    return True


if __name__ == "__main__":
    main()
