"""Blink detection on eye-aspect-ratio traces and blink statistics (metrics.md 2.9).

A reimplementation of Vougioukas et al.'s offline detector (DinoMan/blink-detector): a blink is
a sharp per-frame EAR drop; it starts at the last EAR peak before the drop and ends at the first
peak after it. The constants are tied to dlib's landmarks and 25 fps: always report the same
detector's numbers on the real videos of the same set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DROP_THRESHOLD = 0.072  # EAR decrease between consecutive frames that marks a blink
MIN_PEAK_DISTANCE = 4  # frames between two blinks at least


@dataclass(frozen=True)
class Blink:
    start: int  # frame index
    end: int  # frame index

    @property
    def frames(self) -> int:
        return self.end - self.start


def detect_blinks(ear: np.ndarray) -> list[Blink]:
    """Blinks in a (T,) EAR trace."""
    from scipy.signal import find_peaks

    ear = np.asarray(ear, dtype=np.float64)
    if len(ear) < 3:
        return []
    drops, _ = find_peaks(
        -np.diff(ear), height=DROP_THRESHOLD, distance=MIN_PEAK_DISTANCE
    )
    level = (ear.min() + ear.max()) / 2
    blinks = []
    for k, p in enumerate(drops):
        # start: the drop frame itself if EAR was not falling into it, else the last high peak
        if p == 0 or ear[p - 1] <= ear[p]:
            start = int(p)
        else:
            highs, _ = find_peaks(ear[: p + 1], height=level)
            start = int(highs[-1]) if len(highs) else 0
        # end: the first high peak before the next blink (the trace's end for the last blink)
        stop = drops[k + 1] if k + 1 < len(drops) else len(ear)
        highs, _ = find_peaks(ear[p:stop], height=level)
        if len(highs):
            blinks.append(Blink(start, int(p + highs[0])))
        elif k + 1 == len(drops):
            blinks.append(Blink(start, len(ear) - 1))
    return blinks


def blink_stats(traces: list[np.ndarray], fps: float = 25.0) -> dict:
    """Blink rate (per second, pooled: all blinks / all seconds) and median and mean duration
    (seconds) over the EAR traces of a set of videos; durations 0.0 when there are no blinks."""
    blinks = [detect_blinks(t) for t in traces]
    seconds = sum(len(t) for t in traces) / fps
    durations = [b.frames / fps for video in blinks for b in video]
    return {
        "blinks": len(durations),
        "rate": len(durations) / seconds if seconds else 0.0,
        "median_duration": float(np.median(durations)) if durations else 0.0,
        "mean_duration": float(np.mean(durations)) if durations else 0.0,
    }


def blink_depths(ear: np.ndarray) -> list[float]:
    """Each blink's lowest EAR in a (T,) trace over the trace's median (the open eye's): 1 = the
    lids did not move, 0 = shut. Real GRID blinks reach about 0.5."""
    ear = np.asarray(ear, dtype=np.float64)
    return [ear[b.start : b.end + 1].min() / np.median(ear) for b in detect_blinks(ear)]
