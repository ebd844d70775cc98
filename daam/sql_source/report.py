"""What a run reports, per table and in all; and the group, the unit a table is extracted in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TableReport:
    record_type: str
    table: str
    groups: int = 0  # groups in the table
    groups_changed: int = 0  # groups read again (changed since the mark, file missing, or full)
    groups_refused: int = 0  # lineage that names no landing path: not written
    rows_read: int = 0  # rows of the groups read again (the others are not read)
    rows_written: int = 0  # rows_read less the group-marker rows
    files_written: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)  # read again, same bytes: not rewritten
    mark_before: str | None = None
    mark_after: str | None = None  # ISO text of the high-water mark after the run
    mark_kind: str | None = None  # datetime | date | int | decimal | text: how to read mark_after back


@dataclass
class ExtractReport:
    tables: list[TableReport] = field(default_factory=list)
    tables_missing: list[str] = field(default_factory=list)  # record types with no table in the replica

    @property
    def tables_read(self) -> list[str]:
        return [t.table for t in self.tables]

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def files_written(self) -> list[str]:
        return [f for t in self.tables for f in t.files_written]

    @property
    def files_unchanged(self) -> list[str]:
        return [f for t in self.tables for f in t.files_unchanged]

    @property
    def groups_refused(self) -> int:
        return sum(t.groups_refused for t in self.tables)

    @property
    def marks(self) -> dict[str, str | None]:
        """table → its high-water mark after the run (ISO text; None for an empty table)."""
        return {t.table: t.mark_after for t in self.tables}

    def summary(self) -> str:
        return (f"{len(self.tables)} tables read, {self.rows_read} rows read, "
                f"{len(self.files_written)} files written, {len(self.files_unchanged)} unchanged, "
                f"{self.groups_refused} groups refused"
                + (f", no table for {', '.join(self.tables_missing)}" if self.tables_missing else ""))


@dataclass
class _Group:
    path: str  # relative landing path
    keys: list[tuple]  # the raw lineage values that go to this file, in writing order
    changed: bool = False
