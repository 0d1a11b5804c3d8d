"""The one exception type for user mistakes (bad input, unwritable output).

The CLI prints a `TalkfaceError` as a single line and exits non-zero; anything else is a bug
and keeps its traceback.
"""


class TalkfaceError(Exception):
    """A problem with the user's input or environment, explained in one line."""
