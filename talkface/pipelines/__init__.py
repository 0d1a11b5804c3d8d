"""Inference: compose face, features, motion and rendering into one call per method."""
