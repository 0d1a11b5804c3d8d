"""Command line: a thin shell over the Python API (parse, build options, call, report)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import typing
from pathlib import Path


def _dataclass_flags(parser: argparse.ArgumentParser, cls) -> None:
    """One --flag per field of a config dataclass, typed and defaulted from the dataclass."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        flag = "--" + field.name.replace("_", "-")
        kind = hints[field.name]
        if kind is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=field.default
            )
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            parser.add_argument(
                flag,
                type=item,
                nargs="+",
                default=field.default,
                help=f"default {field.default}",
            )
        else:
            parser.add_argument(
                flag, type=kind, default=field.default, help=f"default {field.default}"
            )


def _from_flags(cls, args: argparse.Namespace):
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def build_parser() -> argparse.ArgumentParser:
    from talkface import __version__

    parser = argparse.ArgumentParser(
        prog="talkface", description="Speech-driven talking-head video from one photo."
    )
    parser.add_argument(
        "--version", action="version", version=f"talkface {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate", help="animate a face photo with a speech recording -> mp4"
    )
    gen.add_argument(
        "--image", help="face photo (JPEG/PNG/WebP/BMP); default: the bundled sample"
    )
    gen.add_argument(
        "--audio",
        help="speech (wav/mp3/m4a/flac/ogg or a video); default: the bundled sample",
    )
    gen.add_argument(
        "-o",
        "--output",
        default="talkface.mp4",
        help="output mp4 (default: talkface.mp4)",
    )
    gen.add_argument(
        "--model", default=None, help="model name (see list-models) or checkpoint path"
    )
    gen.add_argument("--fps", type=float, default=25.0, help="frame rate (default 25)")
    gen.add_argument(
        "--seed", type=int, default=None, help="random seed: same seed, same video"
    )
    gen.add_argument(
        "--face",
        type=int,
        default=0,
        help="which face to animate, 0 = largest (default)",
    )
    gen.add_argument(
        "--blink-rate",
        type=float,
        default=None,
        help="blinks per second (default 0.33; 0 = none)",
    )
    gen.add_argument(
        "--crop-size",
        type=int,
        default=None,
        help="face crop size in px (default: native)",
    )
    gen.add_argument(
        "--motion-scale",
        type=float,
        default=None,
        help="lip/jaw motion strength (default 1.3)",
    )
    gen.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary"
    )

    pre = sub.add_parser(
        "preprocess", help="extract landmarks and audio from raw clips for training"
    )
    pre.add_argument("raw_dir")
    pre.add_argument("out_dir")
    pre.add_argument("--layout", default="grid", choices=["grid"])
    pre.add_argument("--jobs", type=int, default=1)
    pre.add_argument(
        "--shard", default="0/1", help="i/n: process every n-th clip from the i-th"
    )
    pre.add_argument("-q", "--quiet", action="store_true")

    train = sub.add_parser("train", help="train a model from preprocessed data")
    recipes = train.add_subparsers(dest="recipe", required=True)
    from talkface.train.atnet import ATNetTrainConfig

    _dataclass_flags(
        recipes.add_parser("atnet", help="AT-net: audio -> landmark motion"),
        ATNetTrainConfig,
    )

    ev = sub.add_parser(
        "evaluate", help="metrics of generated videos against reference videos"
    )
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--generated", help="folder of generated videos")
    source.add_argument(
        "--baseline",
        choices=["static", "ground-truth"],
        help="measure a baseline instead",
    )
    ev.add_argument(
        "--reference", required=True, help="folder of reference videos (same names)"
    )
    ev.add_argument("-o", "--output", required=True, help="report .json")
    ev.add_argument(
        "--side-by-side", help="folder for real | generated videos of every clip"
    )
    ev.add_argument("-q", "--quiet", action="store_true")

    sub.add_parser("list-models", help="list the shipped models")
    return parser


def _generate(args) -> None:
    import talkface
    from talkface.io.video import check_output_path
    from talkface.pipelines.two_stage import GenerateOptions

    start = time.time()
    sample_image, sample_audio = talkface.sample_paths()
    check_output_path(args.output)
    chosen = dict(
        fps=args.fps,
        seed=args.seed,
        face=args.face,
        crop_size=args.crop_size,
        blink_rate=args.blink_rate,
        motion_scale=args.motion_scale,
    )
    options = {name: value for name, value in chosen.items() if value is not None}
    GenerateOptions(**options)  # validate before any slow work
    if not args.quiet:
        print("talkface: finding the face and reading the speech...", file=sys.stderr)
    video = talkface.generate(
        args.image or sample_image,
        args.audio or sample_audio,
        model=args.model,
        **options,
    )
    video.save(args.output, progress=not args.quiet)
    if not args.quiet:
        took = time.time() - start
        print(
            f"wrote {args.output}: {video.width}x{video.height}, {len(video)} frames at {video.fps:g} fps "
            f"({video.duration:.2f} s) in {took:.1f} s",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    from talkface.errors import TalkfaceError

    args = build_parser().parse_args(argv)
    try:
        if args.command == "generate":
            _generate(args)
        elif args.command == "preprocess":
            from talkface.data.preprocess import preprocess

            i, n = (int(x) for x in args.shard.split("/"))
            preprocess(
                args.raw_dir,
                args.out_dir,
                args.layout,
                args.jobs,
                (i, n),
                progress=not args.quiet,
            )
        elif args.command == "train":
            from talkface.train.atnet import ATNetTrainConfig, train

            print(f"best checkpoint: {train(_from_flags(ATNetTrainConfig, args))}")
        elif args.command == "evaluate":
            import json

            from talkface.eval.runner import evaluate, markdown_table

            report = evaluate(
                args.generated,
                args.reference,
                args.baseline,
                progress=not args.quiet,
                side_by_side=args.side_by_side,
            )
            Path(args.output).write_text(json.dumps(report, indent=1))
            print(markdown_table(report))
        elif args.command == "list-models":
            from talkface.registry import DEFAULT_MODEL, MODELS

            for name, spec in MODELS.items():
                print(
                    f"{name}{' (default)' if name == DEFAULT_MODEL else ''}: {spec.description}"
                )
    except TalkfaceError as e:
        print(f"talkface: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("talkface: interrupted", file=sys.stderr)
        return 130
    return 0
