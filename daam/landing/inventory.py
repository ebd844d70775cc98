"""Walk a landing root and say, for every file, what it is and where it belongs (contract section 2).

Each file becomes one `InventoryEntry`: its record type, school year, period, school or province,
size and content hash, or the reason it can not belong anywhere (a path outside the layout, a link
leading out of the root, a name with control or invisible characters). Hidden entries (names
starting with `.`, e.g. the demo generator's `.daam-demo/`) and Office lock files (`~$...`) are not
school data and are skipped.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from daam.config import Settings
from daam.landing.normalise import parse_school_year

EXTENSIONS = (".csv", ".xlsx", ".txt", ".tsv")
_SCHOOL_FILE = re.compile(r"^(?P<code>[^/]+)\.(?P<ext>[A-Za-z0-9]+)$")
_MONTH = re.compile(r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})$")
_PAYMENT_FILE = re.compile(r"^(?P<prov>[0-9]{3})_(?P<inst>[1-3])\.(?P<ext>[A-Za-z0-9]+)$")
_SNAPSHOT_FILE = re.compile(r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<ext>[A-Za-z0-9]+)$")


@dataclass
class InventoryEntry:
    file_path: str  # relative, '/'-separated
    record_type: str | None = None
    school_year: str | None = None
    period: str | None = None
    school_code: str | None = None
    province_code: str | None = None
    instalment: int | None = None
    size_bytes: int | None = None
    content_sha256: str | None = None
    refusal: str | None = None
    modified_at: datetime | None = None  # the file's modification time: when it reached the landing zone
    stat_key: str | None = None  # size, modification and change times, inode: what says the bytes may differ


def _bad_name(name: str) -> bool:
    """Control, format (zero-width, bidi) or other invisible characters in a name."""
    if name.isascii():  # the usual case, at C speed: in ASCII only control characters are unprintable
        return not name.isprintable()
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in name)


def unread_identity(shown: str, detail: str = "") -> str:
    """The `content_sha256` of an entry refused without being opened: the manifest identifies a file
    version by (path, hash), so a refused link or badly named file needs a stable one too. It is a
    hash of what was seen without reading (the path as shown, a link's target), never of content."""
    return hashlib.sha256(f"refused unread\0{shown}\0{detail}".encode("utf-8", "backslashreplace")).hexdigest()


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def classify(rel: str, settings: Settings) -> InventoryEntry:
    """Place a relative path in the landing layout, or give the reason it does not fit."""
    return Layout(settings).classify(rel)


class Layout:
    """The landing layout of `settings`, placing paths; what the files of one folder share (its
    school year, the year's months) is worked out once per scan, not once per file (a nation's
    200,000 paths: 2.5 of the 4 s of classifying them)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.folders = {spec.folder: name for name, spec in settings.record_types.items()}
        self.months = {year: set(settings.months_of(year)) for year in settings.school_years}
        self._years: dict[str, str | None] = {}

    def school_year(self, folder: str) -> str | None:
        if folder not in self._years:
            self._years[folder] = parse_school_year(folder)
        return self._years[folder]

    def classify(self, rel: str) -> InventoryEntry:
        """Place a relative path in the landing layout, or give the reason it does not fit."""
        entry = InventoryEntry(rel)
        parts = rel.split("/")
        layout_hint = (
            "expected <school_year>/<record_type>/<school_code>.xlsx|csv, "
            "<school_year>/<attendance|canteen_meals>/<YYYY-MM>/<school_code>.xlsx|csv, "
            "<school_year>/tayssir_payments/<province_code>_<1-3>.csv|xlsx or reference/schools/<YYYY-MM-DD>.csv|xlsx"
        )
        if not rel.lower().endswith(EXTENSIONS):
            entry.refusal = f"not a spreadsheet or CSV file (extension of {parts[-1]!r}); {layout_hint}"
            return entry
        if len(parts) == 3 and f"{parts[0]}/{parts[1]}" == self.settings.record_types["schools"].folder:
            m = _SNAPSHOT_FILE.match(parts[2])
            if not m:
                entry.refusal = f"a referential snapshot must be named <YYYY-MM-DD>.csv|xlsx, not {parts[2]!r}"
                return entry
            entry.record_type, entry.period = "schools", m["date"]
            return entry
        year = self.school_year(parts[0]) if len(parts) >= 3 else None
        if year is None or len(parts) not in (3, 4) or parts[1] not in self.folders:
            entry.refusal = f"path {rel!r} is not part of the landing layout; {layout_hint}"
            return entry
        if year != parts[0]:
            entry.refusal = f"school-year folder {parts[0]!r} must be written {year!r}"
            return entry
        record_type = self.folders[parts[1]]
        spec = self.settings.record_types[record_type]
        entry.record_type, entry.school_year = record_type, year
        if year not in self.settings.school_years:
            entry.refusal = (
                f"school year {year} has no programme rules in configs/programme_rules.yaml "
                f"(known: {', '.join(self.settings.school_years)})"
            )
            return entry
        if spec.layout == "monthly_school":
            month = _MONTH.match(parts[2]) if len(parts) == 4 else None
            if not month:
                entry.refusal = f"{record_type} files go in a month folder: {year}/{parts[1]}/<YYYY-MM>/<school_code>.xlsx|csv"
                return entry
            entry.period = parts[2]
            if entry.period not in self.months[year]:
                entry.refusal = f"period {entry.period} is outside the school year {year} (September to June)"
                return entry
            name = parts[3]
        elif len(parts) != 3:
            entry.refusal = f"{record_type} files go directly in {year}/{parts[1]}/, not in a sub-folder"
            return entry
        else:
            name = parts[2]
        if spec.layout == "province_instalment":
            m = _PAYMENT_FILE.match(name)
            if not m:
                entry.refusal = f"a payment file must be named <province_code>_<instalment 1-3>.csv|xlsx, not {name!r}"
                return entry
            entry.province_code, entry.instalment = m["prov"], int(m["inst"])
            if entry.province_code not in self.settings.provinces:
                entry.refusal = f"unknown province code {entry.province_code} in the file name"
            return entry
        entry.school_code = _SCHOOL_FILE.match(name)["code"].upper()
        return entry


def hidden(name: str) -> bool:
    """Folders and files not part of the landing zone (`.daam-demo/`, `.daam-sql/`, `.DS_Store`).
    The landing sensor watches exactly what the scan reads."""
    return name.startswith(".")


def ignored(name: str) -> bool:
    """Files not part of the landing zone: hidden ones and Office lock files (`~$...`)."""
    return hidden(name) or name.startswith("~$")


def stat_key(info: os.stat_result) -> str:
    """What git's index compares to tell a file may have changed without reading it: size,
    modification time, inode and status-change time. The last one is set by the system on every
    write and can not be set back, so a file rewritten with the same size and its old
    modification time restored (a copy that keeps times, an archive unpacked) still differs."""
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def scan(root: Path, settings: Settings, known: dict[str, tuple[str, str]] | None = None) -> list[InventoryEntry]:
    """Every file below `root`, classified and hashed; links out of the root are refused unread.

    `known` (path -> `stat_key`, hash of the last scan) spares re-reading a file whose `stat_key`
    has not changed: a national landing zone holds 200,000 files, and hashing them all again took
    most of a one-file reload."""
    known = known or {}
    root = root.resolve()
    entries: list[InventoryEntry] = []
    _scan_folder(root, root, "", Layout(settings), known, entries)
    return entries


def _scan_folder(root: Path, folder: Path | str, prefix: str, layout: Layout,
                 known: dict[str, tuple[str, str]], entries: list[InventoryEntry]) -> None:
    """The files of `folder` (`prefix`: its path below the root, with a final "/"), then its
    folders, in name order, as `os.walk` would list them. With `os.scandir` each entry's type
    comes with the folder's listing, so a file costs one `stat` (a nation: 200,000 files, scanned
    at every load; `os.walk` and `Path.is_symlink`/`Path.stat` took 4 s of a one-file reload's 9 s)."""
    try:
        with os.scandir(folder) as listing:
            found = sorted(listing, key=lambda e: e.name)
    except OSError:  # an unreadable folder is skipped, as os.walk does
        return
    folders, files = [], []
    for entry in found:
        try:
            is_folder = entry.is_dir()  # follows a link, as os.walk does
        except OSError:
            is_folder = False
        if not is_folder:
            files.append(entry)
        elif not hidden(entry.name):
            folders.append(entry)
    for entry in [e for e in folders if e.is_symlink()]:  # a linked folder is never walked
        folders.remove(entry)
        rel = prefix + entry.name
        entries.append(InventoryEntry(rel, refusal="a link to a folder: refused and not read",
                                      content_sha256=unread_identity(rel, os.readlink(entry.path))))
    for entry in files:
        if ignored(entry.name):
            continue
        rel = prefix + entry.name
        if _bad_name(rel):
            shown = rel.encode("unicode_escape").decode("ascii")
            entries.append(InventoryEntry(shown, refusal="file name has control or invisible characters: refused and not read",
                                          content_sha256=unread_identity(shown)))
            continue
        if entry.is_symlink():
            target = Path(entry.path).resolve()
            if not target.is_relative_to(root):
                entries.append(InventoryEntry(rel, refusal="a link leading outside the landing root: refused and not read",
                                              content_sha256=unread_identity(rel, os.readlink(entry.path))))
                continue
        item = layout.classify(rel)
        try:
            info = entry.stat()  # follows a link (inside the root), as Path.stat does
            if not stat.S_ISREG(info.st_mode):  # a named pipe would block the scan forever
                item.refusal = "not a regular file (a pipe, socket or device): refused and not read"
                item.content_sha256 = unread_identity(rel, "special")
            else:
                item.size_bytes = info.st_size
                item.modified_at = datetime.fromtimestamp(info.st_mtime)
                item.stat_key = stat_key(info)
                seen = known.get(rel)
                item.content_sha256 = seen[1] if seen and seen[0] == item.stat_key else sha256_of(Path(entry.path))
        except OSError as exc:  # e.g. a link to a file that does not exist
            item.refusal = item.refusal or f"file can not be opened: {exc.strerror}"
            item.content_sha256 = unread_identity(rel, str(exc.strerror))
        entries.append(item)
    for entry in folders:
        _scan_folder(root, entry.path, f"{prefix}{entry.name}/", layout, known, entries)


def safe_paths(root: Path, rels: list[str]) -> list[Path]:
    """The absolute paths of relative landing paths, refusing any that escapes the root, which is
    resolved once (a reader resolves its chunk's paths; resolving the root and every path in the
    parent cost a region load 3.9 s of its critical path)."""
    root = root.resolve()
    paths = [(root / rel).resolve() for rel in rels]
    for rel, path in zip(rels, paths):
        if not path.is_relative_to(root):
            raise ValueError(f"path {rel!r} leads outside the landing root")
    return paths
