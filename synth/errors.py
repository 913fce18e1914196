"""The one exception type that reaches users as a single line, never a traceback."""


class UserError(Exception):
    """Bad input from a user: a config key, a path, a value out of range.

    The message must name the key and what is allowed, e.g.
    ``"n=0: must be an integer >= 1"``. The CLI prints ``synth: error: <message>``
    and exits with status 2.
    """
