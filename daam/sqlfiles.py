"""SQL kept in `.sql` files inside a package, run statement by statement with bound parameters.

Values are always bound (`$year`, `$province`...), never pasted into the text. A file may also name
identifiers (`{{ table }}`, `{{ column }}`): a checked schema, table or column name that a caller
takes from the model registry, never from data. That is how one query serves every fact (a
referential-integrity check, a partition replace) without a copy per table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources

import duckdb

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?")
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
COMMENT = re.compile(r"--[^\n]*")
RELATION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")


def quote_identifier(name: str) -> str:
    """A column or table name as a SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def quote_relation(name: str) -> str:
    """A plain `[schema.]name` as a SQL relation (anything else is a ValueError)."""
    if not RELATION.fullmatch(name):
        raise ValueError(f"relation must be a plain [schema.]name, not {name!r}")
    return ".".join(quote_identifier(part) for part in name.split("."))


def quote_text(text: str) -> str:
    """Constant text as a SQL string literal, for statements that cannot bind it (a literal list that
    must reach below a view's aggregation, a regex or mapping compiled into a query)."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames) -> Iterator[duckdb.DuckDBPyConnection]:
    """The DataFrames visible to SQL under their names for the block (registered, not copied)."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield con
    finally:
        for name in frames:
            con.unregister(name)


class SqlFileError(ValueError):
    """A SQL file is missing, or is given an identifier that is not a plain name."""


@cache
def _read(package: str, name: str) -> str:
    path = resources.files(package).joinpath("sql", name)
    if not path.is_file():
        raise SqlFileError(f"{package}/sql/{name} does not exist")
    return path.read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """Statements of a SQL file: separated by `;` at the end of a line that is not a comment (no
    `;` inside literals)."""
    parts, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";") and not line.lstrip().startswith("--"):
            parts.append("\n".join(current))
            current = []
    parts.append("\n".join(current))
    return [p for p in parts if any(ln.strip() and not ln.strip().startswith("--") for ln in p.splitlines())]


def _used(statement: str, params: dict | None) -> dict | None:
    """The parameters a statement names outside its comments (DuckDB refuses parameters a statement
    does not use)."""
    code = COMMENT.sub("", statement)
    used = {k: v for k, v in (params or {}).items() if re.search(rf"\${re.escape(k)}\b", code)}
    return used or None


class SqlFiles:
    """The `.sql` files under `<package>/sql/`."""

    def __init__(self, package: str):
        self.package = package

    def text(self, name: str, **identifiers: str) -> str:
        """The file's text with its `{{ identifiers }}` filled in."""
        for key, value in identifiers.items():
            if not IDENTIFIER.fullmatch(value):
                raise SqlFileError(f"{name}: {key}={value!r} is not a plain schema, table or column name")

        def fill(match: re.Match) -> str:
            if match.group(1) not in identifiers:
                raise SqlFileError(f"{self.package}/sql/{name} needs the identifier {match.group(1)!r}")
            return identifiers[match.group(1)]

        return PLACEHOLDER.sub(fill, _read(self.package, name))

    def statements(self, name: str, **identifiers: str) -> list[str]:
        return split_statements(self.text(name, **identifiers))

    def run(self, con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
            **identifiers: str) -> None:
        """Run every statement of the file, each with the parameters it uses."""
        for statement in self.statements(name, **identifiers):
            con.execute(statement, _used(statement, params)).fetchall()

    def query(self, con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
              **identifiers: str) -> duckdb.DuckDBPyConnection:
        """Run the file and return the cursor of its last statement (a select), to fetch from."""
        *before, last = self.statements(name, **identifiers)
        for statement in before:
            con.execute(statement, _used(statement, params)).fetchall()
        return con.execute(last, _used(last, params))

    def row(self, con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
            **identifiers: str) -> dict | None:
        """The first row of the file's last statement as {column: value} (None when it has none).
        The result is read to its end: DuckDB refuses to register a frame on a connection with an
        unfinished result."""
        cursor = self.query(con, name, params, **identifiers)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        return dict(zip(names, rows[0], strict=True)) if rows else None

    @staticmethod
    def execute(con: duckdb.DuckDBPyConnection, statement: str, params: dict | None = None):
        """Run one statement with the parameters it uses (for statements a caller puts together from
        checked registry names and a file's text, as `warehouse.build.materialize` does)."""
        return con.execute(statement, _used(statement, params))
