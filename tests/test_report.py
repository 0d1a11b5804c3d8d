"""The readable report: one row per system, plots of the clips behind the means."""

import numpy as np

from talkface.eval.report import table_markdown, write_report
from talkface.eval.runner import summarise


def _report(lmd: float, blink_at: int | None) -> dict:
    ear = 0.3 + 0.004 * np.random.default_rng(0).standard_normal(75)
    if blink_at is not None:
        ear[blink_at : blink_at + 5] = [0.22, 0.12, 0.05, 0.12, 0.22]
    clip = {
        "clip": "bbaf2n",
        "psnr": 30.0,
        "ssim": 0.9,
        "cpbd": 0.3,
        "cpbd_reference": 0.31,
        "lmd_mouth": lmd,
        "lmd_face": 2 * lmd,
        "opening_corr": 0.5,
        "identity": 0.1,
        "ear": ear.tolist(),
        "ear_reference": ear.tolist(),
        "opening": np.sin(np.arange(75) / 5).tolist(),
        "opening_reference": np.sin(np.arange(75) / 5).tolist(),
    }
    return {"fingerprint": {"lmd": "test"}, "clips": [clip], **summarise([clip])}


def test_table_has_a_row_per_system_and_dashes_for_unmeasured_metrics():
    table = table_markdown({"talkface": _report(1.0, 20), "static": _report(2.0, None)})
    lines = table.splitlines()
    assert lines[0].startswith("| system | clips | PSNR")
    assert lines[2].startswith("| talkface | 1 | 30.00 |") and "| 1.000 |" in lines[2]
    assert lines[3].startswith("| static | 1 |") and "| 2.000 |" in lines[3]
    assert "| - |" in lines[2]  # no sync expert ran: a dash, not a crash
    assert len({line.count("|") for line in lines}) == 1


def test_write_report_makes_markdown_html_and_plots(tmp_path):
    path = write_report({"a": _report(1.0, 20), "b": _report(2.0, None)}, tmp_path, "t")
    text = path.read_text()
    assert "| a | 1 |" in text and "![" in text and '"lmd": "test"' in text
    html = (tmp_path / "report.html").read_text()
    assert "<table>" in html and "blinks.png" in html
    for name in ("lmd_per_clip.png", "opening.png", "blinks.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
