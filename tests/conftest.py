"""Shared fixtures: a small hand-written landing zone whose every outcome is known."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from daam.secret import create_secret
from tests.browser.fixtures import browser, open_visit  # noqa: F401  (one browser for every folder)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
# The reports site is drawn after each publish only for the tests that read it (tests/reports).
os.environ.setdefault("DAAM_REPORTS", "off")
# The monitoring's Data Docs of every test go to the session's own folder, never the repository's
# quality_checks/gx/: the two test processes (make test runs pytest-xdist) would write there together.
os.environ.setdefault("DAAM_GX_ROOT", tempfile.mkdtemp(prefix="daam-test-gx-"))

# The pseudonym secret of the whole test session (daam/secret.py): a fresh random one, outside
# the repository, mode 0600; tests that need another one set DAAM_SECRET_FILE themselves.
_SECRET_DIR = Path(tempfile.mkdtemp(prefix="daam-test-secret-"))
os.environ["DAAM_SECRET_FILE"] = str(create_secret(_SECRET_DIR / "daam.secret"))

SCHOOL_A = "16698Z"  # rural primary with canteen, Tayssir
SCHOOL_B = "16701C"  # rural collège with boarding
YEAR = "2022-2023"

REFERENTIAL = (
    "CD_ETAB,NOM_ETABL,NOM_ETABA,CD_PROV,cd_com,CD_MIL,LL_CYCLE,NetabFr,has_boarding,boarding_capacity,has_canteen\n"
    f"{SCHOOL_A},ECOLE A,مدرسة أ,110,1001,R,PRIMAIRE,Ecole Autonome,0,,1\n"
    f"{SCHOOL_B},COLLEGE B,ثانوية ب,110,1001,R,SECONDAIRE-COLLEGIAL,Collège Enseignement Général,1,50,0\n"
)
ROSTER_A = (
    "رقم التلميذ,النسب,الإسم,النوع,تاريخ الازدياد,المستوى\n"
    "J130245871,العلوي,محمد,ذكر,01/02/2015,2AP\n"          # line 2: clean
    "J130245872,الإدريسي,فاطمة,أنثى,2014-05-03,3AP\n"     # line 3: clean
    "BAD,x,y,M,2014-05-03,3AP\n"                           # line 4: massar_code_format (error)
    "J130245873,a,b,F,2010-01-01,1AP\n"                    # line 5: age_level_mismatch (warning)
    "J130245872,الإدريسي,فاطمة,أنثى,2014-05-03,3AP\n"     # line 6: duplicate_key_identical (warning)
)
ATTENDANCE_A = (
    "massar_code,unjustified_absence_days,justified_absence_days\n"
    "J130245871,2,0\n"       # compliant (2 <= 4)
    "J130245872,5,1\n"       # over the primary threshold
    "J999999999,0,0\n"       # pupil_not_on_roster
    "J130245873,30,0\n"      # absence_days_range (30 > 19 school days in October)
)
FILES = {
    "reference/schools/2022-09-01.csv": REFERENTIAL,
    f"{YEAR}/students/{SCHOOL_A}.csv": ROSTER_A,
    f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv": ATTENDANCE_A,
    f"{YEAR}/tayssir_beneficiaries/{SCHOOL_A}.csv":
        "massar_code,guardian_cin,status\nJ130245871,S123456,active\nJ130245872,AB12345,actif\n",
    f"{YEAR}/tayssir_payments/110_1.csv":
        "payment_ref,guardian_cin,massar_code,period_from,period_to,amount_mad,status\n"
        "P1,S123456,J130245871,2022-09,2022-11,180,paid\nP2,AB12345,J130245872,2022-09,2022-11,\"160,00\",unclaimed\n",
    f"{YEAR}/schoolbags/{SCHOOL_A}.csv": "level,enrolled,eligible,kit_type,kits_requested\n2AP,1,1,كتب ولوازم,3\n",
    f"{YEAR}/canteen_meals/2022-10/{SCHOOL_A}.csv": "beneficiaries,meal_days,meals_served\n3,18,50\n",
    f"{YEAR}/boarding_grants/{SCHOOL_B}.csv": "massar_code,grant_type,start_month\n",
    f"{YEAR}/students/99999Z.csv": "massar_code\n",
}


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def fail_core(monkeypatch, fails: Callable, message: str = "core failed on purpose") -> None:
    """Make the core step of every partition for which `fails(scope)` holds raise `message`; the
    other partitions' core steps build as usual."""
    from warehouse.build import core

    real = core.build

    def build(con, scope, run_id):
        if fails(scope):
            raise RuntimeError(message)
        return real(con, scope, run_id)

    monkeypatch.setattr(core, "build", build)


@pytest.fixture
def small_landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    write_files(root, FILES)
    return root
