"""nn.Module definitions only: no I/O, no losses, no device placement."""
