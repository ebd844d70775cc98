"""Great Expectations 1.x suites, one per record type, built as code from `configs/`.

The expectations are declared in `quality_checks/expectations.py` (no GX there, so that staging,
which runs them compiled to SQL, never imports GX); this module makes the GX objects and suites
the monitoring job validates and Data Docs show.
"""

from __future__ import annotations

import great_expectations as gx

from daam.config import RecordTypeSpec, Settings
from quality_checks.expectations import declarations_for


def expectations_for(spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> list:
    """The GX expectations enforcing the catalogue's row rules on one record type (`declarations_for`)."""
    return [declared.to_gx() for declared in declarations_for(spec, settings, school_year)]


def build_suite(spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> gx.ExpectationSuite:
    """The suite `daam.<record_type>` for a school year (month rules depend on the year)."""
    # Expectations are given to the constructor, not added one by one: `add_expectation` on a
    # suite writes through to whichever GX context is active, which would make that context's
    # validation definitions stale.
    return gx.ExpectationSuite(name=f"daam.{spec.name}" + (f".{school_year}" if school_year else ""),
                               expectations=expectations_for(spec, settings, school_year))
