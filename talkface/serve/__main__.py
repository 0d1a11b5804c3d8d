"""`python -m talkface.serve [--port 8000 ...]`: the same as `talkface serve`."""

import sys

from talkface.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
