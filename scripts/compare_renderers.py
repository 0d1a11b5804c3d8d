"""Compare renderers alone (real landmarks, teacher forcing) on GRID crops and write the table
into docs/results.md (between the renderer markers).

    python scripts/compare_renderers.py --cache cache/grid --limit 5 \
        --texture sinha-warp=runs/texture/best.pt

Systems: the still first frame, the warp renderer, and each --texture NAME=CHECKPOINT (a texture
generator checkpoint or a shipped renderer name). See talkface/eval/renderers.py for the protocol.
With --side-by-side DIR, one clip per set is written as real | warp | each texture model.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from talkface.eval.renderers import RENDER_SETS, evaluate_renderers, render_clip
from talkface.eval.report import replace_section
from talkface.io.files import atomic_output
from talkface.render.neural import NeuralRenderer
from talkface.render.warp import WarpRenderer
from talkface.weights import load_model, load_weights


def texture_system(checkpoint: str):
    from talkface.registry import RENDERERS

    model = load_model(load_weights(RENDERERS.get(checkpoint, checkpoint)))
    return lambda crop: NeuralRenderer(crop, model)


def table(results: dict) -> str:
    lines = []
    for name, systems in results.items():
        first = next(iter(systems.values()))
        cpbd_real = first["mean"]["cpbd_reference"]
        lines += [
            f"**{name}** ({len(first['clips'])} clips; real crops' CPBD {cpbd_real:.3f})",
            "",
            "| renderer | SSIM | PSNR | CPBD (x real) | LMD mouth | identity distance |",
            "|---|---|---|---|---|---|",
        ]
        for system, report in systems.items():
            m = report["mean"]
            psnr = f"{m['psnr']:.2f}" if "psnr" in m else "inf"  # real vs itself
            lines.append(
                f"| {system} | {m['ssim']:.3f} | {psnr} | {m['cpbd']:.3f} "
                f"({m['cpbd'] / cpbd_real:.2f}) | {m['lmd_mouth']:.3f} | {m['identity']:.3f} |"
            )
        lines.append("")
    return "\n".join(lines)


def side_by_side(cache: str, systems: dict, out: Path) -> None:
    from talkface.data.landmarks import load_split
    from talkface.io.video import write_video

    out.mkdir(parents=True, exist_ok=True)
    for name, (speaker, split) in RENDER_SETS.items():
        keys = ("crop_128x128", "crop_landmarks_128x128", "fps", "wav")
        clip = load_split(cache, split, speakers=(speaker,), keys=keys, limit=1)[0]
        crops, landmarks = clip[keys[0]], clip[keys[1]]
        rows = [crops] + [render_clip(s, crops, landmarks) for s in systems.values()]
        frames = np.concatenate(rows, axis=2)
        write_video(out / f"{name}.mp4", frames, float(clip["fps"]), clip["wav"])


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--cache", default="cache/grid")
parser.add_argument(
    "--texture",
    action="append",
    default=[],
    metavar="NAME=CHECKPOINT",
    help="a texture generator to measure (repeatable)",
)
parser.add_argument(
    "--sets", nargs="+", default=list(RENDER_SETS), choices=list(RENDER_SETS)
)
parser.add_argument("--limit", type=int, default=None, help="clips per set")
parser.add_argument("-o", "--output", default="docs/eval/renderer_comparison.json")
parser.add_argument("--results", default="docs/results.md")
parser.add_argument(
    "--side-by-side", type=Path, help="folder for real | renderers videos"
)
args = parser.parse_args()

systems = {"warp": WarpRenderer}
for item in args.texture:
    name, _, checkpoint = item.partition("=")
    systems[name] = texture_system(checkpoint)
sets = {name: RENDER_SETS[name] for name in args.sets}
results = evaluate_renderers(args.cache, systems, sets, args.limit)
for per_set in results.values():
    for report in per_set.values():
        for clip in report[
            "clips"
        ]:  # keep the JSON small: traces are for plots, not tables
            for key in ("ear", "ear_reference", "opening", "opening_reference"):
                clip.pop(key, None)
with atomic_output(args.output) as tmp:
    Path(tmp).write_text(json.dumps(results, indent=1))
command = (
    "python scripts/compare_renderers.py --cache cache/grid"
    + "".join(f" --texture {t}" for t in args.texture)
    + (f" --limit {args.limit}" if args.limit else "")
)
replace_section(
    args.results,
    "renderers",
    f"`{command}`\n\n{table(results)}",
    "Renderers alone (real landmarks)",
)
if args.side_by_side:
    side_by_side(args.cache, systems, args.side_by_side)
print(table(results))
