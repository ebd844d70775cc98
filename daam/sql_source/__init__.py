"""A SQL source: extract a relational Massar replica into the landing zone, as files.

The replica is read through SQLAlchemy (SQLite, PostgreSQL, or any dialect with a driver), and
everything it holds is *written into the landing zone* as the CSV files a school would send, so that
SQL rows are inventoried, loaded, quarantined, corrected and reconciled exactly as files are: the
loader never knows the difference.

**The replica.** One table or view per record type, named like the record type (`students`,
`attendance`, ...; another name through `tables=`), in `schema` if given. It has the record type's
canonical column names (configs/record_types.yaml; any it lacks are simply not written, as a file
may lack optional columns), plus:

| layout                | lineage columns                            | file written                       |
|-----------------------|--------------------------------------------|------------------------------------|
| `school`              | `school_year`, `school_code`               | `<year>/<folder>/<school>.csv`     |
| `monthly_school`      | `school_year`, `period` (YYYY-MM or a      | `<year>/<folder>/<period>/`        |
|                       | date), `school_code`                       | `<school>.csv`                     |
| `province_instalment` | `school_year`, `province_code`,            | `<year>/tayssir_payments/`         |
|                       | `instalment` (1..3)                        | `<province>_<instalment>.csv`      |
| `snapshot` (schools)  | none: the table is one snapshot            | `reference/schools/<day>.csv`      |

and an `updated_at` column (a timestamp; a date, a number or sortable text work too; a row whose
`updated_at` is NULL is only read with the rest of its group, or by a full run). A *group* is
one value of the lineage columns: one file. The referential is one group, the current state of the
table, written as a snapshot named after the day of its latest change (so a change makes a new
snapshot and the warehouse's school dimension gets a new version, as with dated files).

**Incremental by `updated_at`.** For each table the high-water mark (the greatest `updated_at`
extracted) is kept in `<landing>/.daam-sql/state.json`, per source database (driver, host, port,
database: never the password) and table. The hidden folder is skipped by the inventory and by the
landing sensor. A run lists the groups with their latest `updated_at`; a group is *changed* when
that is above the mark, when its file is missing from the landing zone, or on every group with
`full=True`. Every row of a changed group is read again and its file rendered: UTF-8, a header of
canonical names, one line per row in primary-key order (the table's primary key; for a view
without one, the record type's key then every written column), values as text exactly as stored
(dates ISO, a midnight timestamp as its date, decimals without exponent, booleans `true`/`false`,
NULL empty). The extractor owns the paths it writes: a file sent by hand at the same path is replaced,
as a resend would be. The file is replaced atomically (temporary file in the same folder, then
`os.replace`) only when its bytes differ, so an unchanged group keeps its content hash and its
modification time, and the loader skips it. The mark advances only after a table's files are all
written; a run that stops half-way redoes that table next time, writing only what differs.

**Deletes and late commits.** A row deleted in the replica leaves no `updated_at` behind: it
disappears from its file at the next rewrite of the group, i.e. when another row of the group
changes, or at a `full=True` run. A group whose rows are all deleted keeps its last file (the
landing zone keeps every last sending; remove the file by hand to withdraw it). A row committed
after a run with an `updated_at` older than that run's mark (a long transaction) is likewise only
seen by a `full=True` run. A `full=True` run rewrites only the files whose content changed, so
running one nightly is cheap and heals both.

**Group markers.** A row whose canonical columns are all NULL or empty is not written: it declares
its group, which gets a header-only file. That is how a replica says "this school reported an empty
list" (a reported zero, e.g. no boarding grant), as a header-only file does.

Lineage values must name a landing path: a school code of letters and digits, a school year
(`2022-2023`, or any spelling the landing zone accepts), a `YYYY-MM` period (or a date), a 3-digit
province and an instalment 1..3. A group whose lineage does not is not written, and is counted in
the report (`groups_refused`). Two spellings of one lineage (`2022/2023` and `2022-2023`) go to
the same file, in that order of spelling.

Nothing personal is logged: table names and counts only.
"""

from daam.sql_source.errors import SqlSourceError
from daam.sql_source.extraction import LINEAGE as LINEAGE
from daam.sql_source.extraction import UPDATED_AT as UPDATED_AT
from daam.sql_source.extraction import extract
from daam.sql_source.report import ExtractReport, TableReport
from daam.sql_source.state import state_path
from daam.sql_source.writer import render as render

__all__ = ["ExtractReport", "SqlSourceError", "TableReport", "extract", "state_path"]
