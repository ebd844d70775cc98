"""The pseudonym secret: the key of every HMAC that turns a Massar code or a CIN into a key.

A pupil key made by an unkeyed hash is no pseudonym: Massar codes and CINs live in small spaces
(one letter and 6 to 9 digits), and every one of them can be hashed in minutes and matched. With
HMAC-SHA256 under a secret, a key can only be recomputed by someone who holds the secret. The
secret lives in a file named by the environment variable `DAAM_SECRET_FILE`, outside the
repository and outside every warehouse file: the warehouse only ever sees it as a session
variable of the connection that computes keys (warehouse/pseudonyms.py), never stored.

A missing, empty, short or world-readable secret file stops daam before it writes anything,
with a message saying what to do; there is no fallback to an unkeyed hash. Changing the secret
and reloading gives new keys and the same numbers.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

SECRET_ENV = "DAAM_SECRET_FILE"
MIN_SECRET_BYTES = 32


class SecretError(RuntimeError):
    """The pseudonym secret can not be used; the message says why and what to do."""


def secret_path() -> Path:
    """The secret file named by `DAAM_SECRET_FILE` (an error if the variable is not set)."""
    value = os.environ.get(SECRET_ENV, "").strip()
    if not value:
        raise SecretError(
            f"{SECRET_ENV} is not set: daam needs a secret file to make the pupils' and guardians' keys. "
            f"Create one once with `daam secret --create PATH` (keep it outside the repository and the "
            f"warehouse folder, and keep a copy: another secret gives other keys), then "
            f"`export {SECRET_ENV}=PATH`.")
    return Path(value).expanduser()


def load_secret(path: str | Path | None = None) -> bytes:
    """The secret's bytes (surrounding whitespace removed), after checking the file is usable."""
    path = Path(path) if path is not None else secret_path()
    try:
        mode = path.stat().st_mode
        data = path.read_bytes().strip()
    except FileNotFoundError:
        raise SecretError(f"the secret file {path} ({SECRET_ENV}) does not exist. Create it with "
                          f"`daam secret --create {path}`, or point {SECRET_ENV} at the existing one: "
                          f"a new secret changes every pupil and guardian key.") from None
    except IsADirectoryError:
        raise SecretError(f"the secret file {path} ({SECRET_ENV}) is a folder, not a file.") from None
    except OSError as exc:
        raise SecretError(f"the secret file {path} ({SECRET_ENV}) can not be read: {exc.strerror}.") from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise SecretError(f"the secret file {path} ({SECRET_ENV}) can be read or written by every account "
                          f"of this machine: `chmod 600 {path}` (and consider making a new secret).")
    if len(data) < MIN_SECRET_BYTES:
        raise SecretError(f"the secret file {path} ({SECRET_ENV}) holds {len(data)} bytes; at least "
                          f"{MIN_SECRET_BYTES} are needed. Make one with `daam secret --create PATH`.")
    return data


def create_secret(path: str | Path) -> Path:
    """Write a new random secret (64 hex digits, 256 bits) to `path`, mode 0600; never overwrites."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path


def ensure_secret(path: str | Path) -> tuple[Path, bool]:
    """The secret at `path`, created if missing (the demo's default); returns (path, created)."""
    path = Path(path)
    if path.exists():
        load_secret(path)
        return path, False
    return create_secret(path), True
