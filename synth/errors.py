"""The exception types that reach users as a single line, never a traceback."""

from __future__ import annotations

import errno
import os


class UserError(Exception):
    """Bad input from a user: a config key, a path, a value out of range.

    The message must name the key and what is allowed, e.g.
    ``"n=0: must be an integer >= 1"``. The CLI prints ``synth: error: <message>``
    and exits with status 2.
    """


class MediaError(UserError, RuntimeError):
    """A file ffmpeg cannot read or write: not a video, truncated, an encoder that failed.
    The message names the file and ends with ffmpeg's own first line of explanation.
    (Also a RuntimeError, which is what the video functions raised before it existed.)"""


# What the operating system says about a path the user gave, and what to do about it. Errors
# with other numbers (ENOENT of a file the package should ship, EBADF, ...) are bugs and keep
# their traceback; commands check the paths users name for existence themselves.
_OS_HINTS = {
    errno.ENOSPC: "no space left on the device; free some and rerun the same command (finished samples are kept)",
    errno.EDQUOT: "disk quota exceeded; free some and rerun the same command (finished samples are kept)",
    errno.EROFS: "read-only file system; choose a writable path",
    errno.EACCES: "permission denied; choose a path you may write/read",
    errno.EPERM: "operation not permitted; choose a path you may write/read",
    errno.ENOTDIR: "a parent of this path is a file, not a directory",
    errno.EEXIST: "exists and is not a directory",
    errno.EISDIR: "is a directory, a file was expected",
    errno.ENAMETOOLONG: "file name too long",
}


def os_error_message(exc: OSError) -> str | None:
    """One line ``<path>: <problem>; <what to do>`` for an OSError caused by the user's paths or
    disk (full, read-only, a file where a directory should be), or None for any other OSError."""
    hint = _OS_HINTS.get(exc.errno)
    if hint is None:
        return None
    where = exc.filename if exc.filename is not None else "(writing output)"
    return f"{os.fsdecode(where)}: {hint}"
