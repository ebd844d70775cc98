"""Quality rules of daam: the rule catalogue, Great Expectations suites built from it, and the
cross-record rules that run as SQL in DuckDB."""
