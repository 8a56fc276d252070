"""One way to write a file so that a reader never sees half of it: :func:`atomic_write`.

The content goes to a temporary file in the same folder, which is flushed and synced to
disk, then renamed over the target (atomic on POSIX and Windows), and the folder is synced
so that the rename itself survives a power cut.  A failure while writing leaves the old
file as it was and no temporary file behind.  Every writer of the project that replaces a
file (batch shards and manifests, the document filter, ``expel-merge``'s rewrite of a gold
file) goes through it.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> atomic_text(p, "done\\n"); p.read_text()
    'done\\n'
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on leaving the block without an
    error it replaces ``path`` (``mode`` "w" or "wb")."""
    path = Path(path)
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes a whole file: mode 'w' or 'wb', not {mode!r}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file owner-only; keep the mode of the file it replaces, or the
        # umask's, as a plain open() would
        try:
            perm = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            perm = 0o666 & ~umask
        os.chmod(tmp, perm)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), atomically."""
    with atomic_write(path) as f:
        f.write(text)


def atomic_lines(path: str | Path, lines: Iterable[str]) -> None:
    """Replace ``path`` with ``lines``, one a line, atomically."""
    with atomic_write(path) as f:
        for line in lines:
            f.write(line + "\n")
