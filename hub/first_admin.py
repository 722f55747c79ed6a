"""The first admin's password, handed over through a file instead of a log.

On a hub without users, `seed-hub serve` creates `admin` with a random password and writes it
to data_dir/first-admin-password, mode 0600: the terminal, and under systemd the journal, see
only the file's path. The file goes at a start once the password no longer signs him in
(changed, or reset with `seed-hub users add admin`); `forget_first_password` is for the
sign-in to call when he signs in.
"""

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from hub.users import authenticate, ensure_first_admin
from protocol.files import write_private

log = logging.getLogger(__name__)

FIRST_ADMIN = "admin"
FILE_NAME = "first-admin-password"


def first_password_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def hand_over_first_admin(session: Session, data_dir: Path) -> Path | None:
    """On a hub without users, create the admin and write his password to a file only the
    hub's user reads; returns the file's path, or None when the hub had users."""
    password = ensure_first_admin(session, username=FIRST_ADMIN)
    if password is None:
        return None
    path = first_password_file(data_dir)
    write_private(path, f"{password}\n".encode())
    return path


def retire_first_password(session: Session, data_dir: Path) -> bool:
    """Delete the file once its password no longer signs the admin in; True if it went."""
    path = first_password_file(data_dir)
    try:
        password = path.read_text().strip()
    except FileNotFoundError:
        return False
    if authenticate(session, username=FIRST_ADMIN, password=password) is not None:
        return False
    forget_first_password(data_dir)
    return True


def forget_first_password(data_dir: Path) -> None:
    """The admin has the password (he signed in, or changed it): the file is not needed."""
    path = first_password_file(data_dir)
    if path.exists():
        path.unlink(missing_ok=True)
        log.info("%s deleted: the first admin has his password", path)
