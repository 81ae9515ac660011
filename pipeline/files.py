"""Files that hold readers' data, created for the service user alone.

The database (and SQLite's -wal and -shm, which take the database file's mode), the
outbox's .eml files, subscriber exports and previews are created 0600. `newsletter`
sets the process umask to 077 as it starts, and these files are also created with their
mode explicitly, so a library caller or an inherited umask of 022 cannot widen them.

`NEWSLETTER_UMASK` (octal) lets a group in: `027` gives 0640 (a group that reads, such
as a backup user), `007` gives 0660 (`serve` and `run` as two users of one group sharing
a SQLite file, which both write). A umask that lets others in is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO, cast

from pipeline.errors import ConfigError

DEFAULT_UMASK = 0o077
UMASK_VARIABLE = "NEWSLETTER_UMASK"


def umask_setting() -> int:
    """`NEWSLETTER_UMASK` as a number, 077 when unset; ConfigError when it lets others in."""
    raw = os.environ.get(UMASK_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_UMASK
    try:
        value = int(raw, 8)
    except ValueError:
        raise ConfigError(f"{UMASK_VARIABLE}={raw!r} is not an octal umask such as 077") from None
    if not 0 <= value <= 0o777 or value & 0o007 != 0o007:
        raise ConfigError(
            f"{UMASK_VARIABLE}={raw!r} would let other users read readers' data; "
            "use 077 (the default), 027 (a group reads) or 007 (a group writes)"
        )
    return value


def apply_umask() -> None:
    os.umask(umask_setting())


def file_mode() -> int:
    """0o600, or 0o640/0o660 with a group umask: the mode of every file of readers' data."""
    return 0o666 & ~umask_setting()


def dir_mode() -> int:
    return 0o777 & ~umask_setting()


def make_private_dir(path: Path) -> None:
    path.mkdir(mode=dir_mode(), parents=True, exist_ok=True)


def _private_fd(path: Path) -> int:
    """Opened for writing with `file_mode()`, also when the file existed with a wider mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, file_mode())
    try:
        os.fchmod(fd, file_mode())
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: Path, newline: str | None = None) -> TextIO:
    """A UTF-8 text file for writing, with `file_mode()`."""
    return cast(TextIO, os.fdopen(_private_fd(path), "w", encoding="utf-8", newline=newline))


def write_private_bytes(path: Path, data: bytes) -> None:
    with os.fdopen(_private_fd(path), "wb") as handle:
        handle.write(data)


def create_private(path: Path) -> None:
    """Create an empty file with `file_mode()` unless it exists: done before SQLite creates
    the database, since SQLite creates it 0644 and its -wal and -shm take its mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, file_mode())
    except (FileExistsError, FileNotFoundError):
        return  # there already, or no folder: SQLite gives its own error for the latter
    try:
        os.fchmod(fd, file_mode())
    finally:
        os.close(fd)


def restrict(path: Path) -> int | None:
    """Take from an existing file every permission `file_mode()` does not grant (never add
    one); returns the old mode when it changed."""
    try:
        old = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return None
    new = old & file_mode()
    if new == old:
        return None
    os.chmod(path, new)
    return old
