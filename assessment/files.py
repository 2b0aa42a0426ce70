"""Writing a file in place of another all at once, for the command line's reports and backups."""

from __future__ import annotations

import os
import secrets
import stat
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
    if target.exists() and _read_only(target):
        raise WriteError(f"{target}: read-only: refusing to replace it (make it writable, or choose another file)")
    partial = target.with_name(f"{target.name}.{secrets.token_hex(6)}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    return partial


def _read_only(target: Path) -> bool:
    """Whether ``target`` is marked read-only, or this user may not write it. A rename would replace
    it anyway; the mode is what an operator sets to keep a file (a backup known to be good), and
    root, who may write any file, is held to it too: a backup often runs as root from cron."""
    return not stat.S_IMODE(target.stat().st_mode) & 0o222 or not os.access(target, os.W_OK)


def _sync(path: Path, flags: int = os.O_RDONLY) -> None:
    """Make ``path``'s content (or a folder's renames, with O_DIRECTORY) durable."""
    opened = os.open(path, flags)
    try:
        os.fsync(opened)
    finally:
        os.close(opened)


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
        # Its content first: renamed before it reached the disk, a crash could leave ``target``
        # whole-named but empty (SQLite syncs a backup's own, which this then finds done).
        _sync(partial)
        os.replace(partial, real)
        _sync(real.parent, os.O_RDONLY | os.O_DIRECTORY)  # until the folder is synced, a crash can undo the rename
    except OSError as error:
        raise _cannot_write(target, error) from None
    finally:
        partial.unlink(missing_ok=True)  # gone already once renamed
