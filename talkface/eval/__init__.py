"""Evaluation metrics (definitions in ../shared/docs/metrics.md) and the GRID protocol."""
