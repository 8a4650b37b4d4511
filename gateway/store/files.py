"""Data files only their owner can read: databases 0600, the folders govgate makes 0700.

The gateway's database holds the audit table and, on the embedded default, every record on the
log (personal ids among them). SQLite creates a database with mode 0644 less the umask, so a
plain `govgate up` left `govgate.db` readable by every user of the machine; systemd's
`UMask=0027` hid that in the shipped unit only. So the file is created 0600 before SQLite opens
it (SQLite gives its -wal and -shm files the database file's mode), a looser existing one is
tightened, and the folders govgate creates for its data and keys are 0700. A folder that
already exists keeps its mode: an operator (or systemd's `StateDirectoryMode`) chose it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)
SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """`path` and any missing parents made 0700 (existing ones left as they are)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # whatever the umask said
    return path


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 if missing; tighten it, and SQLite's side files, if they
    are readable by others."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for found in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
        try:
            mode = stat.S_IMODE(found.stat().st_mode)
            if mode & 0o077:
                os.chmod(found, mode & 0o700)
                logger.warning("%s was readable by others (%o): now %o", found, mode, mode & 0o700)
        except FileNotFoundError:
            continue
        except PermissionError as exc:  # not ours: say so, and go on
            logger.warning("cannot make %s private: %s", found, exc)
