"""A small Massar replica, table for table the landing zone of tests/conftest.py FILES.

Tables are made from the contract: an `id` primary key (the row order of the files), the lineage
columns of the record type's layout, every canonical column typed by its kind (int → INTEGER,
decimal → NUMERIC, date → DATE, yes/no → BOOLEAN, the rest TEXT) and `updated_at`. The rows are
those of the fixture files in the same order, so the extracted files have the same line numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from daam.config import load_settings
from daam.sql_source import LINEAGE, UPDATED_AT
from tests.conftest import SCHOOL_A, SCHOOL_B, YEAR

REFERENTIAL_AT = dt.datetime(2022, 9, 1, 8, 30)  # the snapshot is named after this day: 2022-09-01
SENT_AT = dt.datetime(2022, 11, 5, 10, 0)
MARKER: dict = {}  # a row with no canonical value: declares an empty (header-only) file


def _type(kind: str) -> sa.types.TypeEngine:
    if kind == "int":
        return sa.Integer()
    if kind == "decimal":
        return sa.Numeric(12, 2)
    if kind == "date":
        return sa.Date()
    if kind == "vocab:yes_no":
        return sa.Boolean()
    return sa.Text()


LINEAGE_TYPES = {"school_year": sa.Text(), "school_code": sa.Text(), "period": sa.Text(),
                 "province_code": sa.Text(), "instalment": sa.Integer()}


def metadata(schema: str | None = None) -> sa.MetaData:
    """One table per record type; canteen_meals keeps its period as a DATE (first of the month)."""
    md = sa.MetaData(schema=schema)
    for name, spec in load_settings().record_types.items():
        cols = [sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)]
        for lin in LINEAGE[spec.layout]:
            typ = sa.Date() if (name, lin) == ("canteen_meals", "period") else LINEAGE_TYPES[lin]
            cols.append(sa.Column(lin, typ))
        cols += [sa.Column(c.name, _type(c.kind)) for c in spec.columns.values()]
        cols.append(sa.Column(UPDATED_AT, sa.DateTime(), nullable=False))
        sa.Table(name, md, *cols)
    return md


def _school(school: str, **lineage) -> dict:
    return {"school_year": YEAR, "school_code": school, **lineage}


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _rows(lineage: dict, columns: str, *rows: tuple) -> list[tuple[dict, dict]]:
    names = columns.split()
    return [(lineage, MARKER if row is MARKER else dict(zip(names, row, strict=True))) for row in rows]


MONTH = {"period": "2022-10"}
PAYMENTS = {"school_year": YEAR, "province_code": "110", "instalment": 1}
REFERENTIAL = "school_code name_fr name_ar province_code commune_code milieu cycle nature has_boarding " \
              "boarding_capacity has_canteen"
ROSTER = "massar_code last_name_ar first_name_ar gender birth_date level"

# record type → [(lineage, values)], in the order of the fixture files' lines
ROWS: dict[str, list[tuple[dict, dict]]] = {
    "schools": _rows(
        {}, REFERENTIAL,
        (SCHOOL_A, "ECOLE A", "مدرسة أ", "110", "1001", "R", "PRIMAIRE", "Ecole Autonome", False, None, True),
        (SCHOOL_B, "COLLEGE B", "ثانوية ب", "110", "1001", "R", "SECONDAIRE-COLLEGIAL",
         "Collège Enseignement Général", True, 50, False)),
    "students": _rows(
        _school(SCHOOL_A), ROSTER,
        ("J130245871", "العلوي", "محمد", "ذكر", _d("2015-02-01"), "2AP"),
        ("J130245872", "الإدريسي", "فاطمة", "أنثى", _d("2014-05-03"), "3AP"),
        ("BAD", "x", "y", "M", _d("2014-05-03"), "3AP"),
        ("J130245873", "a", "b", "F", _d("2010-01-01"), "1AP"),
        ("J130245872", "الإدريسي", "فاطمة", "أنثى", _d("2014-05-03"), "3AP"),
    ) + _rows(_school("99999Z"), ROSTER, MARKER),  # a school the referential does not know, empty list
    "attendance": _rows(
        _school(SCHOOL_A, **MONTH), "massar_code unjustified_absence_days justified_absence_days",
        ("J130245871", 2, 0), ("J130245872", 5, 1), ("J999999999", 0, 0), ("J130245873", 30, 0)),
    "tayssir_beneficiaries": _rows(
        _school(SCHOOL_A), "massar_code guardian_cin status",
        ("J130245871", "S123456", "active"), ("J130245872", "AB12345", "actif")),
    "tayssir_payments": _rows(
        PAYMENTS, "payment_ref guardian_cin massar_code period_from period_to amount_mad status",
        ("P1", "S123456", "J130245871", "2022-09", "2022-11", Decimal(180), "paid"),
        ("P2", "AB12345", "J130245872", "2022-09", "2022-11", Decimal("160.00"), "unclaimed")),
    "schoolbags": _rows(
        _school(SCHOOL_A), "level enrolled eligible kit_type kits_requested", ("2AP", 1, 1, "كتب ولوازم", 3)),
    "canteen_meals": _rows(
        _school(SCHOOL_A, period=_d("2022-10-01")), "beneficiaries meal_days meals_served", (3, 18, 50)),
    "boarding_grants": _rows(_school(SCHOOL_B), "massar_code", MARKER),  # no grant: a reported zero
}

ATTENDANCE_PATH = f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"
ABSENCE_RANGE_ROW_ID = 4  # J130245873, 30 unjustified days in October


def create(engine: sa.Engine, schema: str | None = None) -> sa.MetaData:
    """Create the replica's tables (in `schema` when given) and fill them with ROWS."""
    md = metadata(schema)
    with engine.begin() as conn:
        if schema:
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        md.create_all(conn)
        for name, rows in ROWS.items():
            table = md.tables[f"{schema}.{name}" if schema else name]
            at = REFERENTIAL_AT if name == "schools" else SENT_AT
            empty = dict.fromkeys(table.c.keys())
            conn.execute(table.insert(), [{**empty, "id": i, **lin, **values, UPDATED_AT: at}
                                          for i, (lin, values) in enumerate(rows, start=1)])
    return md


def table(md: sa.MetaData, name: str) -> sa.Table:
    return md.tables[f"{md.schema}.{name}" if md.schema else name]
