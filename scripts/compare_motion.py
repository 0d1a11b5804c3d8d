"""Compare the shipped motion models and renderers in the whole pipeline on the GRID protocol
and write the table into docs/results.md (between the motion markers).

    python scripts/compare_motion.py ../shared/data/grid --sets s31-val s26-val s1-test --limit 20 --jobs 2
    python scripts/compare_motion.py ../shared/data/grid --models atvgnet --renderers sinha atvgnet

Results already in the -o file for systems not measured now are kept, so systems can be
measured one at a time. A system is a motion model with a renderer (warp unless named); each
animates the first frame of each clip with the clip's audio (seed from the clip name), and the
rendered video is measured against the real one with the evaluation suite (dlib landmarks on
both). The static photo is the baseline of the same run.
"""

import argparse
import json
from pathlib import Path

from talkface.eval.protocol import GRID_SETS, run_protocol
from talkface.eval.report import replace_section
from talkface.io.files import atomic_output

MODELS = {"atvgnet": "atnet-grid", "sinha": "sinha-grid", "dirfa": "dirfa-grid"}
RENDERERS = ("warp", "sinha", "atvgnet")


def system(motion: str, renderer: str) -> str:
    """The system's key in the -o file and its name in the table."""
    name = f"`--motion {motion}`"
    return name if renderer == "warp" else f"{name} `--renderer {renderer}`"


def row(name: str, summary: dict, static: dict) -> str:
    m, b = summary["mean"], summary["blinks"]
    ratio = m["lmd_mouth"] / static["mean"]["lmd_mouth"]
    cells = [
        name,
        f"{m['lmd_mouth']:.3f}",
        f"{ratio:.3f}",
        f"{m['opening_corr']:.3f}",
        f"{m.get('sync_confidence', float('nan')):.2f}",
        f"{m.get('sync_offset', float('nan')):+.1f}",
        f"{m['identity']:.3f}",
        f"{m['ssim']:.3f}",
        f"{m['cpbd'] / m['cpbd_reference']:.2f}",
        f"{b['rate']:.2f} / {b['median_duration']:.2f}",
    ]
    return "| " + " | ".join(cells) + " |"


def rounded(value, digits: int = 4):
    """The results with every float rounded: the per-frame traces stay, the file shrinks 3x."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


def table(results: dict, sets: list[str]) -> str:
    lines = []
    for name in sets:
        first = next(iter(results.values()))["sets"][name]
        static, real_blinks = first["static"], first["talkface"]["blinks_reference"]
        lines += [
            f"**{name}** ({len(first['talkface']['clips'])} clips)",
            "",
            "| system | LMD mouth | vs static | opening corr | sync conf | sync offset "
            "| identity | SSIM | CPBD (x real) | blinks/s / median s |",
            "|---|---|---|---|---|---|---|---|---|---|",
            row("static photo", static, static),
            *(
                row(key, r["sets"][name]["talkface"], static)
                for key, r in results.items()
            ),
            f"| real video | 0 | 0 | 1 | - | - | - | 1 | 1 | {real_blinks['rate']:.2f} / "
            f"{real_blinks['median_duration']:.2f} |",
            "",
        ]
    return "\n".join(lines)


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("grid", help="../shared/data/grid")
parser.add_argument(
    "--sets", nargs="+", default=["s31-val", "s26-val"], choices=list(GRID_SETS)
)
parser.add_argument(
    "--models",
    nargs="*",
    default=list(MODELS),
    choices=list(MODELS),
    help="models to measure now (none: only rewrite the table from -o)",
)
parser.add_argument(
    "--renderers",
    nargs="+",
    default=["warp"],
    choices=RENDERERS,
    help="renderers to measure each model with",
)
parser.add_argument("--limit", type=int, default=None, help="clips per set")
parser.add_argument("--jobs", type=int, default=2)
parser.add_argument("-o", "--output", default="docs/eval/motion_comparison.json")
parser.add_argument("--results", default="docs/results.md")
args = parser.parse_args()

# models measured before (same -o file) stay in the table; --models are (re)measured now
output = Path(args.output)
results = json.loads(output.read_text()) if output.exists() else {}
for motion in args.models:
    for renderer in args.renderers:
        results[system(motion, renderer)] = run_protocol(
            args.grid,
            MODELS[motion],
            tuple(args.sets),
            args.limit,
            jobs=args.jobs,
            renderer=renderer,
        )
order = [system(m, r) for m in MODELS for r in RENDERERS]
results = {key: results[key] for key in order if key in results}
with atomic_output(output) as tmp:
    Path(tmp).write_text(json.dumps(rounded(results), indent=1))
command = (
    "python scripts/compare_motion.py ../shared/data/grid --sets "
    + " ".join(args.sets)
    + (f" --limit {args.limit}" if args.limit else "")
)
replace_section(
    args.results,
    "motion",
    f"`{command}`\n\n{table(results, args.sets)}",
    "Motion models",
)
print(table(results, args.sets))
