"""Training recipes: losses, loops, checkpoints. Inference never imports this package."""
