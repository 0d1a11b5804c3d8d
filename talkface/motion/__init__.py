"""Motion: per-frame canonical landmark displacements and eyelid closure, retargeted to a face."""
