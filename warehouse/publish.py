"""The published snapshot: the engineers' read-only copy of the whole warehouse.

DuckDB lets one process write a database file, and while it does, no other process can open the
file at all, not even read-only ("IO Error: Could not set lock on file ... Conflicting lock is
held"). The other way round is as bad: a reader holding the working file open between two steps
of a load makes the next step's connection fail. And a reader that does get in between two steps
sees the warehouse half-loaded (a partition's raw rows and manifest already new, its indicators
still old; one directorate of a school year reloaded, the next not yet). So readers never open the
working file: they open `published_path(warehouse)` (`warehouse.duckdb` -> `warehouse.published.duckdb`),
**read-only**, and that file only ever holds the state at the end of a complete load.

`publish(warehouse)` makes it, once a load is over:

1. open the working file read-write, retrying while another process still holds it (that keeps
   any other process from writing it until the copy is done), and `CHECKPOINT`, so that every
   committed transaction is in the file itself and the write-ahead log is empty;
2. copy the file's bytes to `<published>.tmp-<pid>` next to it (same folder, same file system), fsync
   it, and close the working file (`copy_file`: written around the page cache, see below);
3. open the copy read-only and check that it has the same tables with the same row counts;
4. make it read-only for its owner alone (mode 0400: it holds everything the working warehouse
   holds, personal data included, so it is as private as the working file; a process that is not
   root cannot open it read-write by mistake) and `os.replace` it onto the published name, then
   fsync the folder. Analysts at the three levels read the level products (warehouse/products.py),
   not this copy.

The rename is atomic: a reader that opens the published name gets the whole old file or the whole
new one, never a mix, and never "file not found". A reader that opened the old file keeps reading
it, unchanged, until it closes its connection (POSIX: the old inode lives on while a descriptor
is open; its disk space is freed at the last close). Beware DuckDB's instance cache: within one
process, `duckdb.connect(path)` while another connection to the same path is still open returns a
connection to the *same* database instance, i.e. the old snapshot; a reader sees the new snapshot
once all its connections to the file are closed and it connects again.

Why a byte copy and not `ATTACH` + `COPY FROM DATABASE`: on the province-scale demo warehouse
(262 MB, 2 cores) the checkpoint and byte copy take 0.3-0.4 s; `COPY FROM DATABASE` into a fresh
file takes 21 s (it re-reads and re-compresses every table; its output is 25 % smaller, 198 MB,
since it leaves out the free blocks). The byte copy is consistent because nothing writes the file
between the checkpoint and the end of the copy: this process holds the only read-write handle.

Why `copy_file` writes with O_DIRECT: on this machine (a 2-core VM) the kernel's own copy
(`shutil.copyfile`, sendfile) of the 6 GB nation warehouse takes 15-16 s, nearly all of it system
time spent filling the page cache with the copy's pages, not writing the disk (`sync` after it: 1.3
s). Reading the source (already cached: the load just wrote it) into one aligned buffer and writing
that straight to the disk takes 5 s, fsync included, and leaves the cache to the working file. Where
the file system refuses direct writes (tmpfs), it falls back to `shutil.copyfile`.

Work alongside the copy: the copy is disk-bound and the level products' build CPU-bound, so
`publish(..., alongside=build)` runs the build while a thread writes the copy (nation, one corrected
file: 17.3 s one after the other, 13.2 s side by side). The read-write connection is closed once
the file is checkpointed, so the build can attach the file read-only (DuckDB refuses a second
handle on a file within one process). Nothing then keeps another process from opening the file to
write, which the contract below already forbids; should one do it all the same, the file's
identity, size and times, or its write-ahead log, have changed after the copy, and the copy is not
published.

One snapshot is kept, no history: the previous one is replaced (and vanishes once its last reader
closes it). Disk needed during a publish: the working file, the published file and the new copy.

The contract: **publish only when no load is writing and no partition is half-loaded**, that is
after all the partition runs of a load have ended (`run_load` calls it at its end; in Dagster, a
publish step runs in the `duckdb_writer` pool once no other run that writes the warehouse is in
progress). The file lock keeps a *writing step* of another process out during the copy, but it
cannot tell that a load is between two steps: publishing then would publish that half-loaded
state, which is what this module exists to prevent.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

PUBLISHED = ".published"
TMP_MARK = ".tmp-"
ALIGN = 4096  # what O_DIRECT needs of each write's length and offset on the file systems daam runs on


class PublishError(RuntimeError):
    """The copy did not match the working file; the published snapshot was left as it was."""


def published_path(warehouse: str | Path) -> Path:
    """Where the snapshot of `warehouse` is published: `x.duckdb` -> `x.published.duckdb`."""
    warehouse = Path(warehouse)
    stem, suffix = (warehouse.stem, warehouse.suffix) if warehouse.suffix else (warehouse.name, ".duckdb")
    if stem.endswith(PUBLISHED):
        raise ValueError(f"{warehouse} is already a published snapshot, not a working warehouse")
    return warehouse.with_name(f"{stem}{PUBLISHED}{suffix}")


def publish(warehouse: str | Path, lock_timeout: float = 120.0, alongside: Callable[[], object] | None = None) -> Path:
    """Copy the working `warehouse` to its published snapshot, atomically; return the snapshot's path.

    Call it only when no load is writing the warehouse (see the module's contract). Waits up to
    `lock_timeout` seconds for another process to release the file, then raises the lock error.
    On any failure the previous snapshot stays published and no temporary file is left.

    `alongside`: work that only reads the warehouse (the level products), run while the copy is
    written; see "Work alongside the copy" in the module's docstring. Its exception, if any, is
    raised once the snapshot is published."""
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: nothing to publish")
    target = published_path(warehouse)
    tmp = temporary_beside(target)
    try:
        con = _connect_read_write(warehouse, lock_timeout)
        try:
            con.execute("checkpoint")
            expected = _table_rows(con)
            if alongside is None:
                copy_file(warehouse, tmp)
        finally:
            con.close()
        failed = None
        if alongside is None:
            _check_and_swap(tmp, target, expected)
        else:
            failed = _copy_alongside(warehouse, tmp, target, expected, alongside)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if failed is not None:
        raise failed
    return target


def _copy_alongside(warehouse: Path, tmp: Path, target: Path, expected: dict,
                    work: Callable[[], object]) -> Exception | None:
    """Copy and publish on a thread while `work` runs on this one; return `work`'s exception, if any."""
    before = _file_state(warehouse)
    failed = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="daam-publish-copy") as pool:
        copying = pool.submit(_copy_unchanged, warehouse, tmp, target, expected, before)
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - the snapshot is still worth publishing: raised after it
            failed = exc
        copying.result()
    return failed


def _copy_unchanged(warehouse: Path, tmp: Path, target: Path, expected: dict, before: tuple) -> None:
    """Copy `warehouse`, then check that it was not written meanwhile (the copy could then be torn)
    and publish the copy: on the copy's thread, while the work alongside goes on."""
    copy_file(warehouse, tmp)
    if _file_state(warehouse) != before:
        raise PublishError(f"{warehouse} was written while it was being copied (a load started during the "
                           "publish?): not published; publish again once no load is writing")
    _check_and_swap(tmp, target, expected)


def _check_and_swap(tmp: Path, target: Path, expected: dict) -> None:
    _check_copy(tmp, expected)
    swap_in(tmp, target, 0o400)


def _file_state(path: Path) -> tuple:
    """What changes when DuckDB writes the file itself (a checkpoint), and the size of the write-ahead
    log beside it (commits not yet in the file), None when there is none."""
    st = path.stat()
    try:
        wal = os.stat(f"{path}.wal").st_size
    except FileNotFoundError:
        wal = None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, wal


def copy_file(source: Path, target: Path, chunk: int = 16 << 20) -> None:
    """Copy `source`'s bytes to a new file `target`, written with O_DIRECT (not through the page
    cache, see the module's docstring) where the file system allows it, else by `shutil.copyfile`.
    `target` is not fsynced here (`swap_in` does it)."""
    direct = getattr(os, "O_DIRECT", 0)
    if direct:
        try:
            _copy_direct(source, target, direct, chunk)
            return
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: this file system takes no direct writes
                raise
    shutil.copyfile(source, target)


def _copy_direct(source: Path, target: Path, direct: int, chunk: int) -> None:
    buffer = mmap.mmap(-1, chunk)  # page-aligned, as O_DIRECT wants the memory it writes from
    view = memoryview(buffer)
    try:
        with open(source, "rb", buffering=0) as src, \
                open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | direct, 0o600), "wb",
                     buffering=0) as dst:
            while n := src.readinto(view):
                if n % ALIGN:  # the file's last, partial block: O_DIRECT writes whole blocks only
                    fcntl.fcntl(dst, fcntl.F_SETFL, fcntl.fcntl(dst, fcntl.F_GETFL) & ~direct)
                written = 0
                while written < n:
                    written += dst.write(view[written:n])
    finally:
        view.release()
        buffer.close()


def _connect_read_write(warehouse: Path, timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(warehouse))
        except duckdb.IOException:  # another process holds the file (a load step, a reader)
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _table_rows(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    tables = con.execute("select schema_name, table_name from duckdb_tables() "
                         "where database_name = current_database() order by all").fetchall()
    return {(s, t): con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def _check_copy(copy: Path, expected: dict[tuple[str, str], int]) -> None:
    with duckdb.connect(str(copy), read_only=True) as con:
        got = _table_rows(con)
    if got != expected:
        differ = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
        raise PublishError(f"the copy of the warehouse differs from it in {len(differ)} table(s), "
                           f"e.g. {['.'.join(k) for k in differ[:5]]}: not published")


def temporary_beside(target: Path) -> Path:
    """This process's temporary name next to `target` (same folder, same file system, so the final
    rename is atomic), after removing the copies left by a publish that was killed."""
    for path in target.parent.glob(f"{target.name}{TMP_MARK}*"):
        pid = path.name.rsplit(TMP_MARK, 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
    tmp = target.with_name(f"{target.name}{TMP_MARK}{os.getpid()}")
    tmp.unlink(missing_ok=True)
    return tmp


def swap_in(tmp: Path, target: Path, mode: int) -> None:
    """Make the complete file `tmp` durable, give it `mode` and rename it onto `target`: a reader
    opens the whole old file or the whole new one."""
    _fsync(tmp)
    os.chmod(tmp, mode)
    # A write-ahead log next to the published name would be replayed onto the new file by its
    # next reader: a published file is never written, so one can only be left by a misuse.
    Path(f"{target}.wal").unlink(missing_ok=True)
    os.replace(tmp, target)
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
