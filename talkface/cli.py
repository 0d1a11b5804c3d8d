"""Command line: a thin shell over the Python API (parse, build options, call, report)."""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
import typing
from pathlib import Path

from talkface.errors import TalkfaceError
from talkface.pipelines.options import DEFAULT_LOOKAHEAD_MS
from talkface.registry import MOTION_MODELS, RENDERERS
from talkface.serve.settings import add_arguments as add_serve_arguments


def _dataclass_flags(parser: argparse.ArgumentParser, cls) -> None:
    """One --flag per field of a config dataclass, typed from the dataclass. Flags that are not
    given stay out of the namespace, so they override a -c YAML file only when given."""
    parser.add_argument(
        "-c", "--config", help="YAML file of field: value (flags override it)"
    )
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        flag = "--" + field.name.replace("_", "-")
        kind, shown = hints[field.name], f"default {field.default}"
        if kind is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS
            )
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            parser.add_argument(
                flag, type=item, nargs="+", default=argparse.SUPPRESS, help=shown
            )
        else:
            parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=shown)


def _from_flags(cls, args: argparse.Namespace):
    from talkface.train.run import build_config

    names = [f.name for f in dataclasses.fields(cls) if hasattr(args, f.name)]
    given = {name: getattr(args, name) for name in names}
    return build_config(cls, args.config, given)


TRAIN_RECIPES = {
    "atnet": "ATVGnet AT-net: speech -> landmark motion",
    "sinha": "Sinha et al. landmark network: speech -> person-independent landmark motion",
    "blinks": "Sinha et al. blink generator: noise -> eye and brow motion (MMD)",
    "dirfa": "DIRFA: speech -> discretised landmark, blink and head animation (transformer)",
    "syncnet": "sync expert: lower-face video <-> audio embeddings",
    "texture": "Sinha et al. texture generator: landmarks -> frames (attention + colour, LSGAN)",
    "vgnet": "ATVGnet VG-net: landmark sequences -> frames (ConvGRU, regression discriminator)",
    "temporal-gan": "Vougioukas et al. temporal GAN: still + raw audio -> frames (3 discriminators)",
    "noise-prior": "a temporal GAN's learned noise prior, fitted to its noise encoder's codes",
}


def _train_module(recipe: str):
    import importlib

    return importlib.import_module(f"talkface.train.{recipe.replace('-', '_')}")


def _face_video_arguments(parser: argparse.ArgumentParser, output: str) -> None:
    """The options of every command that animates a photo into an mp4."""
    parser.set_defaults(default_output=output)
    parser.add_argument(
        "--image", help="face photo (JPEG/PNG/WebP/BMP); default: the bundled sample"
    )
    parser.add_argument(
        "-o", "--output", default=None, help=f"output mp4 (default: {output})"
    )
    parser.add_argument(
        "--renderer",
        default="warp",
        help="landmarks -> frames: warp (default), "
        + "".join(f"{name}, " for name in sorted(RENDERERS))
        + "or a texture generator checkpoint path",
    )
    parser.add_argument(
        "--fps", type=float, default=25.0, help="frame rate (default 25)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed: same seed, same video"
    )
    parser.add_argument(
        "--face",
        type=int,
        default=0,
        help="which face to animate, 0 = largest (default)",
    )
    parser.add_argument(
        "--blink-rate",
        type=float,
        default=None,
        help="blinks per second (default: natural, learned from GRID; 0 = none)",
    )
    parser.add_argument(
        "--head-motion",
        type=float,
        default=None,
        help="head motion strength 0..2 (default 1; 0 = still head)",
    )
    parser.add_argument(
        "--crop-size",
        type=int,
        default=None,
        help="face crop size in px (default: native)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary"
    )


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
        "--audio",
        help="speech (wav/mp3/m4a/flac/ogg or a video); default: the bundled sample",
    )
    _face_video_arguments(gen, "talkface.mp4")
    gen.add_argument(
        "--batch",
        metavar="CSV",
        help="make many videos: a CSV with image,audio,output columns (+ option columns "
        "such as seed); existing outputs are skipped",
    )
    models = gen.add_mutually_exclusive_group()
    models.add_argument(
        "--model", default=None, help="model name (see list-models) or checkpoint path"
    )
    models.add_argument(
        "--motion",
        default=None,
        metavar="{" + ",".join(sorted(MOTION_MODELS)) + "} or MOTION.json",
        help="speech -> motion system by paper (default: the best measured), or a motion "
        "file (from --save-motion, perhaps edited) to render instead",
    )
    gen.add_argument(
        "--motion-scale",
        type=float,
        default=None,
        help="lip/jaw motion strength (default 1.3)",
    )
    gen.add_argument(
        "--save-motion",
        metavar="JSON",
        help="also write the per-frame motion: landmarks, blinks, head pose (editable)",
    )
    gen.add_argument(
        "--debug",
        metavar="MP4",
        help="also write the renderer at work: crop + landmarks | attention | colour maps",
    )

    st = sub.add_parser(
        "stream",
        help="animate speech as it arrives (a file in chunks, or raw PCM on stdin) -> mp4",
    )
    st.add_argument(
        "--audio",
        help="speech file, or - for raw 16 kHz mono s16le PCM on stdin (default: the "
        "bundled sample)",
    )
    st.add_argument(
        "--chunk-ms", type=float, default=40.0, help="audio per chunk (default 40)"
    )
    st.add_argument(
        "--lookahead-ms",
        type=float,
        default=DEFAULT_LOOKAHEAD_MS,
        help=f"audio a frame waits for past its centre (default {DEFAULT_LOOKAHEAD_MS:g}; "
        "the whole window: 140 for the AT-net, 100 for the temporal GAN; less is sooner)",
    )
    st.add_argument(
        "--realtime",
        action="store_true",
        help="feed a file no faster than it plays, as a live source would",
    )
    stream_models = st.add_mutually_exclusive_group()
    stream_models.add_argument(
        "--model",
        default=None,
        help="model name (see list-models; temporal-gan streams too) or checkpoint path",
    )
    stream_models.add_argument(
        "--motion",
        choices=sorted(MOTION_MODELS),
        default=None,
        help="speech -> motion system by paper (default: the best measured)",
    )
    _face_video_arguments(st, "stream.mp4")

    srv = sub.add_parser(
        "serve", help="the web app and HTTP API (docs/serve.md): http://127.0.0.1:8000/"
    )
    add_serve_arguments(srv)

    idle = sub.add_parser(
        "idle", help="a silent listening loop (blinks, brows, head sway) -> mp4"
    )
    idle.add_argument(
        "--seconds", type=float, default=10.0, help="loop length (default 10)"
    )
    _face_video_arguments(idle, "idle.mp4")

    pre = sub.add_parser(
        "preprocess", help="extract landmarks and audio from raw clips for training"
    )
    pre.add_argument("raw_dir")
    pre.add_argument("out_dir")
    pre.add_argument("--layout", default="grid", choices=["grid", "lrw", "voxceleb2"])
    pre.add_argument(
        "--crop-sizes",
        default="128",
        help="aligned face crops to store, HxW or S, comma-separated (e.g. 96x128,128,256)",
    )
    pre.add_argument("--jobs", type=int, default=1)
    pre.add_argument(
        "--shard", default="0/1", help="i/n: process every n-th clip from the i-th"
    )
    pre.add_argument("-q", "--quiet", action="store_true")

    train = sub.add_parser("train", help="train a model from preprocessed data")
    recipes = train.add_subparsers(dest="recipe", required=True)
    for recipe, help_text in TRAIN_RECIPES.items():
        _dataclass_flags(
            recipes.add_parser(recipe, help=help_text),
            _train_module(recipe).TRAIN_CONFIG,
        )

    ev = sub.add_parser(
        "evaluate", help="metrics of generated videos against reference videos"
    )
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--generated", help="folder of generated videos")
    source.add_argument(
        "--baseline",
        choices=["static", "ground-truth", "reencoded"],
        help="measure a baseline instead",
    )
    source.add_argument(
        "--protocol",
        choices=["grid"],
        help="run the default model and the baselines on GRID s1 test, s26 and s31",
    )
    ev.add_argument("--reference", help="folder of reference videos (same names)")
    ev.add_argument("-o", "--output", required=True, help="report .json")
    ev.add_argument(
        "--report", help="folder for a readable report (markdown, HTML, plots)"
    )
    ev.add_argument(
        "--side-by-side", help="folder for real | generated videos of every clip"
    )
    ev.add_argument(
        "--no-sync", action="store_true", help="skip the sync expert's scores"
    )
    ev.add_argument(
        "--cpbd-every",
        type=int,
        default=None,
        help="score sharpness on every n-th frame (default: 1; 3 for --protocol)",
    )
    ev.add_argument(
        "--grid", default="../shared/data/grid", help="GRID folder for --protocol"
    )
    ev.add_argument("--model", default=None, help="model for --protocol")
    ev.add_argument(
        "--renderer", default="warp", help="renderer for --protocol (as generate's)"
    )
    ev.add_argument(
        "--motion-scale",
        type=float,
        default=None,
        help="generate option for --protocol (default: the pipeline's)",
    )
    ev.add_argument(
        "--sets", default="s1-test,s26-val,s31-val", help="GRID sets for --protocol"
    )
    ev.add_argument("--limit", type=int, default=None, help="clips per set")
    ev.add_argument(
        "--jobs", type=int, default=1, help="processes for --protocol (one per core)"
    )
    ev.add_argument(
        "--results", help="markdown file whose protocol section is rewritten"
    )
    ev.add_argument("-q", "--quiet", action="store_true")

    sub.add_parser("list-models", help="list the shipped models")
    return parser


def _evaluate(args) -> None:
    import json

    from talkface.io.files import atomic_output

    if args.protocol is None and not args.reference:
        raise TalkfaceError("--reference is required with --generated or --baseline")
    output = Path(args.output)
    if not output.parent.is_dir():
        raise TalkfaceError(f"output folder {output.parent} does not exist")
    if args.protocol:
        from talkface.eval.protocol import (
            DEFAULT_CPBD_EVERY,
            run_protocol,
            write_results,
        )

        result = run_protocol(
            args.grid,
            args.model,
            tuple(s for s in args.sets.split(",") if s),
            args.limit,
            args.cpbd_every or DEFAULT_CPBD_EVERY,
            args.jobs,
            progress=not args.quiet,
            renderer=args.renderer,
            **(
                {} if args.motion_scale is None else {"motion_scale": args.motion_scale}
            ),
        )
        reports = result["sets"]
    else:
        from talkface.eval.runner import evaluate

        result = evaluate(
            args.generated,
            args.reference,
            args.baseline,
            progress=not args.quiet,
            side_by_side=args.side_by_side,
            sync=not args.no_sync,
            cpbd_every=args.cpbd_every or 1,
        )
        reports = {"": {args.baseline or "generated": result}}
    with atomic_output(output, suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1))
    from talkface.eval.report import table_markdown, write_report

    for name, systems in reports.items():
        print(f"{name}\n{table_markdown(systems)}" if name else table_markdown(systems))
        if args.report:
            folder = Path(args.report) / name if name else Path(args.report)
            write_report(systems, folder, f"talkface evaluation {name}".strip())
    if args.results and args.protocol:
        write_results(result, args.results)


def _options(args) -> dict:
    """The GenerateOptions fields given on the command line, validated before any slow work."""
    from talkface.pipelines.options import CHOICES, GenerateOptions

    chosen = {name: getattr(args, name, None) for name in CHOICES}
    options = {name: value for name, value in chosen.items() if value is not None}
    GenerateOptions(**options)
    return options


def _summary(video, path: Path, start: float) -> str:
    return (
        f"wrote {path}: {video.width}x{video.height}, {len(video)} frames at "
        f"{video.fps:g} fps ({video.duration:.2f} s) in {time.time() - start:.1f} s"
    )


def _stream(args) -> None:
    import talkface
    from talkface.features.align import SAMPLE_RATE
    from talkface.io.audio import load_audio
    from talkface.io.video import check_output_path, write_video
    from talkface.pipelines.streaming import open_stream, pcm_chunks, stream_frames

    args.output = args.output or args.default_output
    check_output_path(args.output)
    if not 10 <= args.chunk_ms <= 1000:
        raise TalkfaceError(f"--chunk-ms must be 10-1000, got {args.chunk_ms}")
    sample_image, sample_audio = talkface.sample_paths()
    pipeline = talkface.load_pipeline(
        args.model or (MOTION_MODELS[args.motion] if args.motion else None),
        args.renderer,
    )
    session = open_stream(
        pipeline,
        args.image or sample_image,
        lookahead_ms=args.lookahead_ms,
        **_options(args),
    )
    step = int(args.chunk_ms / 1000 * SAMPLE_RATE)
    if args.audio == "-":
        chunks = pcm_chunks(sys.stdin.buffer, step)
    else:
        wav = load_audio(args.audio or sample_audio, SAMPLE_RATE)
        chunks = (wav[i : i + step] for i in range(0, len(wav), step))
    clock = {"start": time.perf_counter()}

    def arriving(chunks):  # paced like a live source when asked; notes each arrival
        for n, chunk in enumerate(chunks):
            if args.realtime:
                time.sleep(
                    max(
                        0.0,
                        clock["start"] + n * step / SAMPLE_RATE - time.perf_counter(),
                    )
                )
            clock["arrived"] = time.perf_counter()
            yield chunk

    def timed(frames):
        for n, frame in enumerate(frames):
            if n == 0:
                clock["first"] = time.perf_counter() - clock["arrived"]
            yield frame

    frames = timed(stream_frames(session, arriving(chunks)))
    write_video(
        args.output, frames, session.options.fps, lambda: session.wav, SAMPLE_RATE
    )
    if not args.quiet:
        seconds = len(session.wav) / SAMPLE_RATE
        took = time.perf_counter() - clock["start"]
        print(
            f"wrote {args.output}: {session.done} frames; first frame "
            f"{1000 * clock['first']:.0f} ms after the audio that completed it; "
            f"{seconds:.2f} s of audio in {took:.2f} s (real-time factor {took / seconds:.2f})",
            file=sys.stderr,
        )


def _idle(args) -> None:
    import talkface
    from talkface.io.video import check_output_path

    start = time.time()
    args.output = args.output or args.default_output
    check_output_path(args.output)
    video = talkface.idle(
        args.image or talkface.sample_paths()[0],
        args.seconds,
        renderer=args.renderer,
        **_options(args),
    )
    video.save(args.output, progress=not args.quiet)
    if not args.quiet:
        print(_summary(video, Path(args.output), start), file=sys.stderr)


def _batch(args) -> int:
    from talkface.batch import read_jobs, run_batch, summary

    single = ("image", "audio", "output", "save_motion", "debug")
    given = [f"--{n.replace('_', '-')}" for n in single if getattr(args, n)]
    if given or (args.motion and args.motion not in MOTION_MODELS):
        raise TalkfaceError(
            f"--batch takes images, audio and outputs from its CSV: drop {', '.join(given) or '--motion FILE'}"
        )
    jobs = read_jobs(args.batch)
    results = run_batch(
        jobs,
        model=MOTION_MODELS.get(args.motion, args.model),
        renderer=args.renderer,
        progress=not args.quiet,
        **_options(args),
    )
    failed = any(r.status == "failed" for r in results)
    if failed or not args.quiet:
        print(summary(results), file=sys.stderr)
    return 1 if failed else 0


def _generate(args) -> None:
    import talkface
    from talkface.io.motion import load_motion, save_motion
    from talkface.io.video import check_output_path

    start = time.time()
    sample_image, sample_audio = talkface.sample_paths()
    args.output = args.output or args.default_output
    check_output_path(args.output)
    model, motion = args.model, None
    if args.motion in MOTION_MODELS:
        model = MOTION_MODELS[args.motion]
    elif args.motion is not None:
        if not args.motion.lower().endswith(".json"):
            raise TalkfaceError(
                f"--motion {args.motion}: choose {', '.join(sorted(MOTION_MODELS))} "
                "or a motion .json file"
            )
        motion = load_motion(args.motion)
    if args.save_motion and not args.save_motion.lower().endswith(".json"):
        raise TalkfaceError(
            f"--save-motion must name a .json file, got {args.save_motion}"
        )
    if args.debug:
        check_output_path(args.debug)
        # the debug video shows the same motion: both need the same seed
        args.seed = args.seed if args.seed is not None else random.randrange(2**31)
    options = _options(args)
    if not args.quiet:
        print("talkface: finding the face and reading the speech...", file=sys.stderr)
    video = talkface.generate(
        args.image or sample_image,
        args.audio or sample_audio,
        model=model,
        renderer=args.renderer,
        motion=motion,
        **options,
    )
    if args.save_motion and video.motion is None:
        raise TalkfaceError(
            "this model has no motion stage: --save-motion does not apply"
        )
    video.save(args.output, progress=not args.quiet)
    if args.save_motion:
        save_motion(args.save_motion, video.motion, video.landmarks)
    if args.debug:
        talkface.generate(
            args.image or sample_image,
            args.audio or sample_audio,
            model=model,
            renderer=args.renderer,
            motion=motion,
            debug=True,
            **options,
        ).save(args.debug, progress=not args.quiet)
    if not args.quiet:
        print(_summary(video, Path(args.output), start), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:

    args = build_parser().parse_args(argv)
    try:
        if args.command == "generate" and args.batch:
            return _batch(args)
        elif args.command == "generate":
            _generate(args)
        elif args.command == "idle":
            _idle(args)
        elif args.command == "stream":
            _stream(args)
        elif args.command == "serve":
            from talkface.serve import run
            from talkface.serve.settings import from_arguments

            run(**from_arguments(args))
        elif args.command == "preprocess":
            from talkface.data.preprocess import (
                PreprocessConfig,
                parse_crop_sizes,
                preprocess,
            )

            i, n = (int(x) for x in args.shard.split("/"))
            preprocess(
                args.raw_dir,
                args.out_dir,
                args.layout,
                args.jobs,
                (i, n),
                progress=not args.quiet,
                config=PreprocessConfig(crop_sizes=parse_crop_sizes(args.crop_sizes)),
            )
        elif args.command == "train":
            module = _train_module(args.recipe)
            config = _from_flags(module.TRAIN_CONFIG, args)
            print(f"best checkpoint: {module.train(config)}")
        elif args.command == "evaluate":
            _evaluate(args)
        elif args.command == "list-models":
            from talkface.registry import (
                COMPONENTS,
                DEFAULT_MODEL,
                EVALUATORS,
                MODELS,
                RENDERER_MODELS,
            )

            for name, spec in MODELS.items():
                print(
                    f"{name}{' (default)' if name == DEFAULT_MODEL else ''}: {spec.description}"
                )
            for name, spec in COMPONENTS.items():
                print(f"{name} (used by every pipeline): {spec.description}")
            for paper, name in RENDERERS.items():
                spec = RENDERER_MODELS[name]
                print(f"{name} (--renderer {paper}): {spec.description}")
            for name, spec in EVALUATORS.items():
                print(f"{name} (evaluation): {spec.description}")
    except TalkfaceError as e:
        print(f"talkface: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("talkface: interrupted", file=sys.stderr)
        return 130
    return 0
