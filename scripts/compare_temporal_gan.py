"""Measure temporal GAN checkpoints (the full model and its ablations, paper 001 Table 5) on
the GRID protocol and write the table into docs/results.md (between the temporal-gan markers).

    python scripts/compare_temporal_gan.py ../shared/data/grid \
        --model full=runs/temporal-gan/best.pt --model "w/o sync=runs/gan-no-sync/best.pt" \
        --sets s26-val s31-val --limit 10

Per checkpoint and set: blinks per second and median duration (EAR detector, no blink module
anywhere), mouth LMD against the static photo's, the sync expert's offset, its confidence at
offset 0 next to the confidence with the audio 5 frames off, identity distance, SSIM and CPBD;
the real video's blinks in the last row. Measurements are kept in --json (by the weights, sets
and limit): a model already measured is not measured again.
"""

import argparse
import json
from pathlib import Path

from talkface.eval.protocol import GRID_SETS, run_protocol
from talkface.eval.report import replace_section
from talkface.io.files import atomic_output
from talkface.registry import SHIPPED

HEADER = (
    "| model | set | blinks/s | blink s | LMD vs static | sync offset | conf at 0 "
    "| conf 5 off | identity | SSIM | CPBD |"
)


def rows(name: str, protocol: dict) -> list[str]:
    out = []
    for set_name, systems in protocol["sets"].items():
        m, blinks = systems["talkface"]["mean"], systems["talkface"]["blinks"]
        static = systems["static"]["mean"]["lmd_mouth"]
        out.append(
            f"| {name} | {set_name} | {blinks['rate']:.2f} | {blinks['median_duration']:.2f} "
            f"| {m['lmd_mouth'] / static:.3f} | {m.get('sync_offset', float('nan')):+.1f} "
            f"| {m.get('sync_in_sync_confidence', float('nan')):.2f} "
            f"| {m.get('sync_shifted_confidence', float('nan')):.2f} "
            f"| {m['identity']:.3f} | {m['ssim']:.3f} | {m['cpbd']:.3f} |"
        )
    return out


def real_rows(protocol: dict) -> list[str]:
    out = []
    for set_name, systems in protocol["sets"].items():
        m, blinks = systems["talkface"]["mean"], systems["talkface"]["blinks_reference"]
        out.append(
            f"| real video | {set_name} | {blinks['rate']:.2f} | {blinks['median_duration']:.2f} "
            f"| | {m.get('sync_offset_reference', float('nan')):+.1f} "
            f"| {m.get('sync_in_sync_confidence_reference', float('nan')):.2f} "
            f"| {m.get('sync_shifted_confidence_reference', float('nan')):.2f} | | | |"
        )
    return out


def measurement_key(
    checkpoint: str, sets: list[str], limit: int | None, seed_offset: int = 0
) -> str:
    """What a measurement depends on: the weights (a shipped name's sha256, a file's path and
    modification time), the sets, the clip limit and the seeds' offset."""
    if checkpoint in SHIPPED:
        stamp = SHIPPED[checkpoint].sha256
    else:
        path = Path(checkpoint)
        stamp = f"{path.resolve()}:{path.stat().st_mtime_ns}"
    seeds = f"|seeds+{seed_offset}" if seed_offset else ""  # older keys had no offset
    return f"{checkpoint}@{stamp}|{','.join(sets)}|{limit}{seeds}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grid")
    parser.add_argument(
        "--model", action="append", required=True, metavar="NAME=CHECKPOINT"
    )
    parser.add_argument(
        "--sets", nargs="+", default=["s26-val", "s31-val"], choices=list(GRID_SETS)
    )
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="added to every clip's protocol seed: another draw of each clip's noise",
    )
    parser.add_argument("--results", default="docs/results.md")
    parser.add_argument("--json", default="runs/compare_temporal_gan.json")
    parser.add_argument(
        "--section",
        default="temporal-gan",
        help="the results.md section to rewrite: temporal-gan, temporal-gan-ablation "
        "(Table 5) or temporal-gan-diversity",
    )
    args = parser.parse_args()

    # measurements are kept in the JSON by checkpoint (file and its modification time), sets
    # and clip limit, so adding a model to a table measures only that model
    cache = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else {}
    protocols = {}
    for entry in args.model:
        name, checkpoint = entry.split("=", 1)
        key = measurement_key(checkpoint, args.sets, args.limit, args.seed_offset)
        if key not in cache:
            cache[key] = run_protocol(
                args.grid,
                checkpoint,
                tuple(args.sets),
                args.limit,
                jobs=args.jobs,
                seed_offset=args.seed_offset,
            )
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(args.json, suffix=".json") as tmp:
                Path(tmp).write_text(json.dumps(cache, indent=1))
        protocols[name] = cache[key]
    lines = [HEADER, "|" + "---|" * 11]
    for name, protocol in protocols.items():
        lines += rows(name, protocol)
    lines += real_rows(next(iter(protocols.values())))
    command = "python scripts/compare_temporal_gan.py ../shared/data/grid " + " ".join(
        [f'--model "{m}"' for m in args.model]
        + ["--sets", *args.sets]
        + ([f"--limit {args.limit}"] if args.limit else [])
        + ([f"--seed-offset {args.seed_offset}"] if args.seed_offset else [])
    )
    table = "\n".join(lines)
    title = {
        "temporal-gan-ablation": "Temporal GAN ablation (paper 001 Table 5)",
        "temporal-gan-diversity": "Temporal GAN with a mode-seeking term (not in the paper)",
    }
    replace_section(
        args.results,
        args.section,
        f"`{command}`\n\n{table}",
        title.get(args.section, "Temporal GAN (Vougioukas et al.)"),
    )
    print(table)


if __name__ == "__main__":
    main()
