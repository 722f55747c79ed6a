"""The hub's files are for its own user only: password hashes, every response, the reports.

Folders are made 0700 and files 0600 in code, so that no umask loosens them; one found looser
(left by an older hub, or made by hand) is tightened at start, with a note in the log.
"""

import logging
import os
import stat
from pathlib import Path

from protocol.files import PRIVATE_MODE

log = logging.getLogger(__name__)

PRIVATE_FOLDER = 0o700
# Mosquitto, a user of its own, passes through the data folder to a fleet folder inside it
# (0750, Mosquitto's group); nobody may list the data folder.
PASSABLE_FOLDER = 0o711


def tighten(path: Path, mode: int) -> bool:
    """Take from `path` every permission that `mode` does not grant; True if it had any."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if not current & ~mode:
        return False
    try:
        path.chmod(current & mode)
    except PermissionError:
        log.warning("%s is mode %04o, open to others, and not ours to change", path, current)
        return False
    log.warning("%s was mode %04o; now %04o, for its owner", path, current, current & mode)
    return True


def private_folder(path: Path, *, mode: int = PRIVATE_FOLDER) -> Path:
    """`path` as a folder with `mode`: made so if new (parents as the umask has them),
    tightened if it was looser."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        tighten(path, mode)
    else:
        path.chmod(mode)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """`path` as a file only its owner reads: created empty if missing, tightened if looser."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        tighten(path, PRIVATE_MODE)
    else:
        os.fchmod(descriptor, PRIVATE_MODE)  # os.open's mode passes through the umask
        os.close(descriptor)
    return path


def private_tree(root: Path) -> None:
    """`root` and everything beneath it: folders 0700, files 0600."""
    private_folder(root)
    for folder, folders, files in os.walk(root):
        for name in folders:
            tighten(Path(folder, name), PRIVATE_FOLDER)
        for name in files:
            if not Path(folder, name).is_symlink():
                tighten(Path(folder, name), PRIVATE_MODE)


def private_data_dir(data_dir: Path, *, fleet_folder: Path) -> None:
    """The data folder and the files kept directly in it (the SQLite database, the session
    key, the first admin's password) for the hub's user only. The reports and the fleet's
    files, in folders of their own, are looked after where they are written."""
    inside = fleet_folder.resolve().is_relative_to(data_dir.resolve())
    private_folder(data_dir, mode=PASSABLE_FOLDER if inside else PRIVATE_FOLDER)
    if inside:
        data_dir.chmod(PASSABLE_FOLDER)  # made 0700 with the database: the broker must pass
    for path in data_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            tighten(path, PRIVATE_MODE)
