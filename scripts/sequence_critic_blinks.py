"""Does a temporal GAN's sequence discriminator know that real faces blink?

    python scripts/sequence_critic_blinks.py runs/temporal-gan/last.pt [--cache cache/grid]

The paper credits the sequence discriminator with the generator's blinks: it can only ask for
them if it scores real sequences that show a blink as more real than real sequences that do not.
For up to --clips GRID s1 `train` clips this takes one 16-frame window around a nearly shut eye
(where the clip has one) and one window with open eyes throughout, and prints the discriminator's
mean logit (higher = more real) on each kind, with its standard error, next to the same
checkpoint's generator's sequences for those open-eye windows (the clip's first frame as the
still, its audio, one noise draw).
"""

import argparse

import numpy as np
import torch

from talkface.render.neural import to_model_range
from talkface.train import temporal_gan as recipe
from talkface.train.renderer_data import shut_eye_frames
from talkface.weights import load_model, load_weights


def windows(clip: dict, length: int) -> tuple[int | None, int | None]:
    """Start of a window around the clip's first shut eye, and of one with open eyes only."""
    shut, n = shut_eye_frames(clip["crop_landmarks"]), len(clip["crops"])
    blink = int(np.clip(shut[0] - length // 3, 0, n - length)) if len(shut) else None
    # open: no shut frame inside the window or within two frames of it
    open_starts = [
        t
        for t in range(0, n - length + 1, length // 2)
        if not np.any((shut >= t - 2) & (shut < t + length + 2))
    ]
    return blink, open_starts[0] if open_starts else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="a temporal-gan run's last.pt or best.pt")
    parser.add_argument("--cache", default="cache/grid")
    parser.add_argument("--clips", type=int, default=120)
    args = parser.parse_args()

    torch.set_num_threads(1)
    state = load_weights(args.checkpoint)
    cfg = recipe.TemporalGANTrainConfig(cache=args.cache, max_clips=args.clips)
    critics = recipe.Discriminators(cfg)
    critics.load_state_dict(state["discriminators"])
    critics.eval()
    generator = load_model(state)
    noise = torch.Generator().manual_seed(0)
    scores = {"real, blink": [], "real, open eyes": [], "generated": []}
    with torch.no_grad():
        for clip in recipe.training_clips(cfg, 128):
            blink, open_eyes = windows(clip, cfg.sequence)
            for kind, t in zip(scores, (blink, open_eyes, open_eyes)):
                if t is None:
                    continue
                audio = torch.from_numpy(clip["audio"][t : t + cfg.sequence][None])
                if kind == "generated":
                    still = to_model_range(clip["crops"][:1])
                    z = generator.sample_noise(1, cfg.sequence, noise)
                    video = generator(still, audio.float(), z)
                else:
                    video = to_model_range(clip["crops"][t : t + cfg.sequence][None])
                scores[kind].append(critics.sequence(video, audio.float()).item())
    print(f"{args.checkpoint} (epoch {state['epoch']}): sequence discriminator logit")
    for kind, values in scores.items():
        values = np.array(values)
        sem = values.std() / np.sqrt(len(values))
        print(f"  {kind}: {values.mean():.2f} +- {sem:.2f} ({len(values)} windows)")


if __name__ == "__main__":
    main()
