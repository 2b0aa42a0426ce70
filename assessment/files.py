"""Writing a file in place of another all at once, for the command line's reports and backups."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteError(ValueError):
    """A file that cannot be written; the message names it and says why."""


def _cannot_write(target: Path, error: OSError) -> WriteError:
    return WriteError(f"{target}: cannot write: {error.strerror or error}")


def _new_file_beside(target: Path, mode: int) -> Path:
    """An empty file in ``target``'s folder, so that renaming it over ``target`` is atomic.

    Its name is random, so that two runs writing the same target do not share it, and it is
    created with ``mode`` less the umask's permissions, as any new file would be.
    """
    if target.exists() and not target.is_file():
        # Renaming over a device, a FIFO or a socket would delete it (`backup /dev/full` did).
        raise WriteError(f"{target}: not a regular file: refusing to replace it")
    partial = target.with_name(f"{target.name}.{secrets.token_hex(6)}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    return partial


@contextmanager
def replacing(target: Path, mode: int = 0o666) -> Iterator[Path]:
    """A new file to write, renamed over ``target`` once the block completes and removed if it
    fails, so that ``target`` is either left as it was or replaced whole: writing in place left a
    truncated file where the previous one had been. An OSError becomes a WriteError naming
    ``target``. ``mode``: the new file's permissions (less the umask's).
    """
    # Renaming over a symbolic link would replace the link; writing in place wrote the file it names.
    real = Path(os.path.realpath(target)) if target.is_symlink() else target  # realpath: no error on a loop
    try:
        partial = _new_file_beside(real, mode)
    except OSError as error:
        raise _cannot_write(target, error) from None
    try:
        yield partial
        os.replace(partial, real)
    except OSError as error:
        raise _cannot_write(target, error) from None
    finally:
        partial.unlink(missing_ok=True)  # gone already once renamed
