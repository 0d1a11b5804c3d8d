"""Frames from motion: turn per-frame landmarks into images of the identity's face."""
