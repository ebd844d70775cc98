"""The error of the SQL source: the replica does not have what the extraction needs."""

from __future__ import annotations


class SqlSourceError(ValueError):
    """The replica does not have what the extraction needs (a table, a lineage column, updated_at)."""
