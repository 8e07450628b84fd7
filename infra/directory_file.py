"""Reading the people directory file, live: the API and the notify activity see an edit without a restart.

`BATON_DIRECTORY` names the YAML file (examples/directory.yaml shows the format). Unset, the directory
is empty: notices fall back to what a deal carries and nobody can sign in by magic link.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from domain.directory import Directory, DirectoryError, load_directory_text

DIRECTORY_ENV = "BATON_DIRECTORY"

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int], Directory]] = {}


def directory_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    chosen = path or os.environ.get(DIRECTORY_ENV, "").strip()
    return Path(chosen) if chosen else None


def read_directory(path: str | os.PathLike[str] | None = None) -> Directory:
    """The directory at `path` (else $BATON_DIRECTORY), parsed again only when the file changed.

    A file that became invalid raises DirectoryError rather than silently serving the old one: a
    notice must not go to someone who was just removed."""
    where = directory_path(path)
    if where is None:
        return Directory()
    try:
        stat = where.stat()
    except OSError as err:
        raise DirectoryError(f"cannot read directory file {where}: {err.strerror}") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    key = str(where.resolve())
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        text = where.read_text(encoding="utf-8")
    except OSError as err:
        raise DirectoryError(f"cannot read directory file {where}: {err.strerror}") from None
    directory = load_directory_text(text)
    with _lock:
        _cache[key] = (stamp, directory)
    return directory


def configured_directory() -> Directory | None:
    """The directory $BATON_DIRECTORY names, or None when it names none (the policy's teams then serve)."""
    return read_directory() if directory_path() is not None else None
