"""Media input/output: images, audio and video files (PyAV, in-process)."""
