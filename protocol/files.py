"""Atomic file writes: a reader (the broker, a technician's copy) never sees half a file."""

import os
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def write_atomic(path: Path, content: bytes, *, mode: int, group: int | None = None) -> None:
    """Write `content` to `path` with `mode` (and `group`, a gid), all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if group is not None:
            os.fchown(descriptor, -1, group)
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable, not only the file's bytes."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_private(path: Path, content: bytes) -> None:
    """Keys and passwords: readable by their owner only."""
    write_atomic(path, content, mode=PRIVATE_MODE)


def write_public(path: Path, content: bytes) -> None:
    write_atomic(path, content, mode=PUBLIC_MODE)
