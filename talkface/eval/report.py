"""A report a person reads: one table row per system, and plots of the clips behind the means.

write_report({"talkface": report, "static": baseline_report, ...}, out_dir) writes
    report.md / report.html   the table (and the protocol fingerprint) with the plots embedded
    lmd_per_clip.png          mouth LMD of every clip, one line per system
    opening.png               inner-lip opening over time, generated vs real, for a few clips
    blinks.png                eye aspect ratio over time with the detected blinks shaded
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from talkface.eval.blinks import detect_blinks
from talkface.eval.runner import TABLE_COLUMNS, table_cells
from talkface.io.files import atomic_output

PLOTTED_CLIPS = 3  # clips shown in the time-series plots


def replace_section(path: str | Path, name: str, body: str, heading: str) -> None:
    """Rewrite the part of a markdown file between `<!-- {name}:begin -->` and
    `<!-- {name}:end -->` with `body` (atomically); a missing section is appended under
    `## {heading}`, a missing file is created."""
    path = Path(path)
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Results\n"
    section = f"{begin}\n\n{body.strip()}\n\n{end}"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {heading}\n\n{section}\n"
    with atomic_output(path, suffix=".md") as tmp:
        Path(tmp).write_text(text)


def table_markdown(reports: dict[str, dict]) -> str:
    """One row per system: `| system | clips | PSNR | ... |`."""
    header = "| system | clips | " + " | ".join(h for h, _ in TABLE_COLUMNS) + " |"
    rows = [
        f"| {name} | {len(r['clips'])} | " + " | ".join(table_cells(r)) + " |"
        for name, r in reports.items()
    ]
    return "\n".join([header, "|" + "---|" * (len(TABLE_COLUMNS) + 2), *rows])


def _save(fig, path: Path) -> None:
    with atomic_output(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")


def plot_lmd_per_clip(reports: dict[str, dict], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name, report in reports.items():
        values = [c["lmd_mouth"] for c in report["clips"]]
        ax.plot(values, marker="o", markersize=3, label=name)
    ax.set_xlabel("clip")
    ax.set_ylabel("mouth LMD (px, lower is better)")
    ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def plot_traces(
    reports: dict[str, dict],
    path: Path,
    key: str,
    ylabel: str,
    shade_blinks: bool = False,
) -> None:
    """`key` and `key_reference` over time for the first PLOTTED_CLIPS clips of each system."""
    import matplotlib.pyplot as plt

    first = next(iter(reports.values()))
    count = min(PLOTTED_CLIPS, len(first["clips"]))
    fig, axes = plt.subplots(count, 1, figsize=(9, 2.4 * count), squeeze=False)
    for row, ax in enumerate(axes[:, 0]):
        clip = first["clips"][row]
        real = np.array(clip[f"{key}_reference"])
        ax.plot(real, color="black", linewidth=2, label="real")
        if shade_blinks:
            for blink in detect_blinks(real):
                ax.axvspan(blink.start, blink.end, color="black", alpha=0.12)
        for name, report in reports.items():
            trace = np.array(report["clips"][row][key])
            (line,) = ax.plot(trace, label=name)
            if shade_blinks:
                for blink in detect_blinks(trace):
                    ax.axvspan(
                        blink.start, blink.end, color=line.get_color(), alpha=0.2
                    )
        ax.set_title(clip["clip"], fontsize=9, loc="left")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("frame")
    axes[0, 0].legend(fontsize=8, ncol=len(reports) + 1)
    _save(fig, path)
    plt.close(fig)


PLOTS = {
    "lmd_per_clip.png": "Mouth LMD per clip",
    "opening.png": "Inner-lip opening over time (px), generated vs real",
    "blinks.png": "Eye aspect ratio over time; shaded spans are detected blinks",
}


def write_report(
    reports: dict[str, dict], out_dir: str | Path, title: str = "talkface evaluation"
) -> Path:
    """Write the markdown + HTML report and its plots into `out_dir`; returns report.md."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_lmd_per_clip(reports, out_dir / "lmd_per_clip.png")
    plot_traces(reports, out_dir / "opening.png", "opening", "opening (px)")
    plot_traces(reports, out_dir / "blinks.png", "ear", "EAR", shade_blinks=True)
    table = table_markdown(reports)
    fingerprint = json.dumps(next(iter(reports.values()))["fingerprint"], indent=1)
    markdown = "\n\n".join(
        [f"# {title}", table]
        + [f"## {caption}\n\n![{caption}]({name})" for name, caption in PLOTS.items()]
        + [f"## Protocol fingerprint\n\n```\n{fingerprint}\n```\n"]
    )
    with atomic_output(out_dir / "report.md", suffix=".md") as tmp:
        Path(tmp).write_text(markdown)
    with atomic_output(out_dir / "report.html", suffix=".html") as tmp:
        Path(tmp).write_text(_html(title, reports, fingerprint))
    return out_dir / "report.md"


def _html(title: str, reports: dict[str, dict], fingerprint: str) -> str:
    headers = ["system", "clips", *(h for h, _ in TABLE_COLUMNS)]
    rows = [
        [name, str(len(r["clips"])), *table_cells(r)] for name, r in reports.items()
    ]
    table = "<table><tr>{}</tr>{}</table>".format(
        "".join(f"<th>{html.escape(h)}</th>" for h in headers),
        "".join(
            "<tr>{}</tr>".format("".join(f"<td>{html.escape(c)}</td>" for c in row))
            for row in rows
        ),
    )
    figures = "".join(
        f"<h2>{html.escape(caption)}</h2><img src='{name}' alt='{html.escape(caption)}'>"
        for name, caption in PLOTS.items()
    )
    style = (
        "body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;"
        "text-align:right}img{max-width:100%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{table}{figures}<h2>Protocol fingerprint</h2><pre>{html.escape(fingerprint)}"
        "</pre></body></html>"
    )
