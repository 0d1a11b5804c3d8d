"""Datasets: turn raw talking-face clips into cached landmarks and audio for training."""
