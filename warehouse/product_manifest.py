"""What each published product file was made from, remembered beside the products, so that a
publish and the reports site need not open every file to read it.

Each product holds its own record (its `ops.product` row: input fingerprint, table fingerprints),
which stays the truth. Reading it means opening the file: about 40 ms each, 95 files at national
scale, twice per publish (the products' build, then the site), about 7 s of a one-file reload. The
build therefore also writes what it wrote or found current into `published/.made-from.json`, with
each file's identity (inode, size, modification and change times, in ns). An entry counts only
while the file's identity is exactly the one recorded; any other file (replaced, touched, edited,
restored from a backup) is opened and read as before. The manifest holds table names and SHA-256
fingerprints, no value of any table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MANIFEST = ".made-from.json"


def _identity(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def load(folder: Path) -> dict[str, dict]:
    """The manifest of the products under `folder` (empty when there is none or it is unreadable)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Manifest:
    """The manifest of the products under `folder`, read once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.entries = load(folder)

    def recall(self, path: Path) -> dict | None:
        """What `path` was made from ({"fingerprint", "tables", "held"}), if the manifest says so
        for this very file; else None (open the file)."""
        try:
            name = path.relative_to(self.folder).as_posix()
        except ValueError:
            return None
        entry = self.entries.get(name)
        if not entry or entry.get("identity") != _identity(path):
            return None
        return entry


def remember(folder: Path, made: dict[Path, dict]) -> None:
    """Record what each file of `made` was made from, with its identity now, keeping the entries of
    the other files that still exist; written to a temporary file and renamed onto the manifest."""
    if not made:
        return
    manifest = {name: entry for name, entry in load(folder).items() if (folder / name).exists()}
    for path, entry in made.items():
        identity = _identity(path)
        if identity is not None:
            manifest[path.relative_to(folder).as_posix()] = {**entry, "identity": identity}
    tmp = folder / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, folder / MANIFEST)
