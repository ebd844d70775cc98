"""The level products on a generated landing zone (contract levels.md sections 1-3): which file
holds what, that nothing personal leaks above the province, that keys are keyed, and that
suppression holds against an attacker who solves the published sums.

One `tiny` landing zone (two directorates of one region, small rural units included) is loaded
three times: with secret A, again with secret A into another warehouse, and with secret B."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from daam.demo.generator import generate
from daam.secret import create_secret, load_secret
from pipelines.cli import main as daam
from pipelines.load import run_load, run_monitoring
from warehouse.disclosure_audit import audit
from warehouse.products import product_path
from warehouse.pseudonyms import bind_secret, reference_key
from warehouse.suppression import load_rules

YEARS = ["2021-2022", "2022-2023"]
PROVINCES = ["110", "111"]
REGION = "02"
FUNCTIONS = Path(__file__).resolve().parents[2] / "warehouse" / "sql" / "core" / "functions.sql"
RUN_COLUMNS = {"load_id", "run_id", "last_run_id", "input_fingerprint", "loaded_at", "scanned_at", "first_seen_at",
               "last_seen_at", "resolved_at", "run_at", "started_at", "finished_at", "closed_at", "reviewed_at",
               "set_up_at", "first_used_at", "check_value", "built_at", "staged_at", "reconciled_at"}


def _load(landing: Path, db: Path, secret: Path) -> None:
    old = os.environ["DAAM_SECRET_FILE"]
    os.environ["DAAM_SECRET_FILE"] = str(secret)
    try:
        report = run_load(landing, db)
        assert report.ok, report.failed
        assert len(report.products) == len(PROVINCES) + 2
        # monitoring fills the families, duplicates and outliers, and publishes again
        monitored = run_monitoring(db)
        assert monitored.ok, monitored.failed
    finally:
        os.environ["DAAM_SECRET_FILE"] = old


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("products")
    landing = root / "landing"
    generate(landing, scale="tiny", seed=7, years=YEARS, defects=0.03)
    a, b = create_secret(root / "a.secret"), create_secret(root / "b.secret")
    dbs = {"a": root / "a" / "w.duckdb", "a2": root / "a2" / "w.duckdb", "b": root / "b" / "w.duckdb"}
    _load(landing, dbs["a"], a)
    _load(landing, dbs["a2"], a)
    _load(landing, dbs["b"], b)
    return landing, dbs, {"a": a, "b": b}


def _con(db: Path, secret: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db), read_only=True)
    if secret:
        bind_secret(con, load_secret(secret))
    return con


def _tables(con) -> list[tuple[str, str]]:
    return con.execute("select table_schema, table_name from information_schema.tables "
                       "where table_catalog = current_database() order by 1, 2").fetchall()


def _columns(con, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute("select column_name, data_type from information_schema.columns "
                       "where table_catalog = current_database() and table_schema = $s and table_name = $t",
                       {"s": schema, "t": table}).fetchall()


def _upper_products(db: Path) -> list[Path]:
    return [product_path(db, "region", REGION), product_path(db, "national")]


def _all_products(db: Path) -> list[Path]:
    return [product_path(db, "province", p) for p in PROVINCES] + _upper_products(db)


def test_each_level_has_its_file_with_its_tables(run):
    _, dbs, _ = run
    db = dbs["a"]
    umask = os.umask(0)
    os.umask(umask)
    assert db.stat().st_mode & 0o777 == 0o600  # the working warehouse: engineers only
    for path in _all_products(db):
        assert path.stat().st_mode & 0o777 == 0o444 & ~umask, path  # read-only, never beyond the umask
    with _con(product_path(db, "province", "110")) as con:
        tables = {f"{s}.{t}" for s, t in _tables(con)}
        assert {"core.pupil_identity", "mart.tayssir_reconciliation", "ops.row_issue", "mart.indicators"} <= tables
        assert not {s for s, _ in _tables(con)} & {"raw", "staging"}
        assert con.execute("select kind, code from ops.product").fetchall() == [("province", "110")]
    for path in _upper_products(db):
        with _con(path) as con:
            tables = {f"{s}.{t}" for s, t in _tables(con)}
            assert {"mart.indicators", "mart.quality_score", "core.submission_status", "ops.row_issue_count",
                    "ops.outlier"} <= tables
            assert not tables & {"core.pupil_identity", "core.fct_enrolment", "mart.household", "ops.row_issue",
                                 "core.dim_pupil", "ops.duplicate_candidate", "ops.file_manifest"}
            assert {c for c, _ in _columns(con, "mart", "indicators")} >= {"value", "suppressed", "flag"}


def _personal_values(db: Path) -> set[str]:
    """Every personal value of the working warehouse, as text: Massar codes, CINs, names, birth
    dates and places, and whatever a school sent in columns the contract does not name."""
    personal = {"massar_code", "guardian_cin", "last_name_ar", "first_name_ar", "last_name_fr", "first_name_fr",
                "birth_date", "birth_place", "guardian_name"}
    values: set[str] = set()
    with _con(db) as con:
        for schema, table in _tables(con):
            if schema not in ("raw", "core"):
                continue
            for col, _ in _columns(con, schema, table):
                if col in personal:
                    values |= {str(v) for (v,) in con.execute(
                        f'select distinct "{col}"::varchar from {schema}.{table} where "{col}" is not null').fetchall()}
        for schema, table in _tables(con):
            if schema == "raw" and "extra" in {c for c, _ in _columns(con, schema, table)}:
                for (extra,) in con.execute(f"select extra from raw.{table} where extra is not null").fetchall():
                    # a row number a school added ("1", "2") is no one's: values of 6 characters and more
                    values |= {str(v) for v in json.loads(extra).values() if v is not None and len(str(v)) >= 6}
        # a birth place that is a province or commune name is public geography, not a person's
        public = {str(v) for (v,) in con.execute("""
            select unnest([province_name_fr, province_name_ar, region_name_fr, region_name_ar]) from core.dim_geography
            union select unnest([commune_name_fr, commune_name_ar, name_fr, name_ar]) from core.dim_school""").fetchall()}
    return {v.strip() for v in values if v and v.strip()} - public


def test_no_personal_value_or_pupil_key_above_the_province(run):
    _, dbs, secrets = run
    db = dbs["a"]
    personal = _personal_values(db)
    assert len(personal) > 1000  # the set is real: codes, CINs, names, dates of every pupil
    with _con(db, secrets["a"]) as con:
        keys = {k for (k,) in con.execute("""select pupil_key from core.dim_pupil union
                                             select guardian_key from mart.household_member""").fetchall()}
    assert len(keys) > 100
    for path in _upper_products(db):
        with _con(path) as con:
            for schema, table in _tables(con):
                for col, dtype in _columns(con, schema, table):
                    found = {v for (v,) in con.execute(
                        f'select distinct "{col}"::varchar from {schema}.{table} where "{col}" is not null').fetchall()}
                    leak = found & personal
                    assert not leak, f"{path.name} {schema}.{table}.{col} holds personal values {sorted(leak)[:3]}"
                    if dtype in ("BIGINT", "HUGEINT", "UBIGINT"):
                        ints = {int(v) for v in found}
                        assert not ints & keys, f"{path.name} {schema}.{table}.{col} joins to pupils"


def test_a_province_product_holds_no_row_of_another_directorate(run):
    _, dbs, _ = run
    db = dbs["a"]
    with _con(db) as con:
        schools = {p: {s for (s,) in con.execute(
            "select school_code from core.dim_school where province_code = $p", {"p": p}).fetchall()}
            for p in PROVINCES}
    for p in PROVINCES:
        other = set().union(*(schools[o] for o in PROVINCES if o != p))
        rows = 0
        with _con(product_path(db, "province", p)) as con:
            for schema, table in _tables(con):
                cols = {c for c, _ in _columns(con, schema, table)}
                for col in cols & {"province_code", "province_code_a", "holding_province_code"}:
                    got = {v for (v,) in con.execute(f"select distinct {col} from {schema}.{table}").fetchall()}
                    assert got <= {p, None}, f"{p}: {schema}.{table}.{col} holds {got}"
                for col in cols & {"school_code", "school_code_a", "holding_school_code"}:
                    got = {v for (v,) in con.execute(f"select distinct {col} from {schema}.{table}").fetchall()}
                    assert not got & other, f"{p}: {schema}.{table}.{col} holds another directorate's schools"
                if {"geo_level", "geo_code"} <= cols:
                    got = set(con.execute(f"select distinct geo_level, geo_code from {schema}.{table}").fetchall())
                    assert got <= {("school", s) for s in schools[p]} | {("province", p)}, f"{schema}.{table}"
                rows += con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            assert con.execute("select count(*) from core.pupil_identity").fetchone()[0] > 100
        assert rows > 1000


def _bigints(path: Path) -> set[int]:
    out: set[int] = set()
    with _con(path) as con:
        for schema, table in _tables(con):
            for col, dtype in _columns(con, schema, table):
                if dtype == "BIGINT":
                    out |= {v for (v,) in con.execute(
                        f'select distinct "{col}" from {schema}.{table} where "{col}" is not null').fetchall()}
    return out


UNKEYED = {  # the keys an attacker without the secret would try: the old scheme and plain hashes
    "old md5 scheme": "('0x' || substr(md5('{domain}|' || v), 1, 15))::bigint",
    "sha256 with domain": "('0x' || substr(sha256('{domain}|' || v), 1, 15))::bigint",
    "bare md5": "('0x' || substr(md5(v), 1, 15))::bigint",
}


def test_brute_force_without_the_secret_matches_no_key(run):
    """Every 'H' CIN (H0 … H999999) and one whole Massar block (a letter and 3 digits, 10^6 codes),
    hashed every unkeyed way, match no key of any product; with the secret, the same brute force
    finds the block's pupils (the search space is right, only the key is missing)."""
    _, dbs, secrets = run
    db = dbs["a"]
    keys = set().union(*(_bigints(p) for p in _all_products(db)))
    with _con(db) as con:
        code = con.execute("select min(massar_code) from core.pupil_identity").fetchone()[0]
        block = code[:4]
    con = duckdb.connect()
    con.execute("""create table space as
                   select 'daam-guardian' as domain, 'H' || i::varchar as v from range(1000000) t(i)
                   union all select 'daam-pupil', $b || lpad(i::varchar, 6, '0') from range(1000000) t(i)""",
                {"b": block})
    con.execute("create table found(k bigint)")
    con.execute("insert into found select unnest($k::bigint[])", {"k": sorted(keys)})
    for name, expr in UNKEYED.items():
        sql = " union all ".join(f"select {expr.format(domain=d)} as k from space where domain = '{d}'"
                                 for d in ("daam-guardian", "daam-pupil"))
        hits = con.execute(f"select count(*) from ({sql}) semi join found using (k)").fetchone()[0]
        assert hits == 0, f"{name}: {hits} keys recovered"
    con.execute("create schema core")
    con.execute(FUNCTIONS.read_text(encoding="utf-8"))
    bind_secret(con, load_secret(secrets["a"]))
    keyed = con.execute("""select count(*) from space where domain = 'daam-pupil'
                           and core.pupil_key(v) in (select k from found)""").fetchone()[0]
    assert keyed >= 1  # the block holds at least the first pupil, found only with the secret
    assert reference_key(load_secret(secrets["a"]), "daam-pupil", code) in keys


def _checksums(db: Path, secret: Path) -> dict[str, tuple]:
    out = {}
    with _con(db, secret) as con:
        for schema, table in _tables(con):
            if schema not in ("core", "mart", "ops") or table in ("load_log", "pseudonym_key"):
                continue
            cols = [c for c, _ in _columns(con, schema, table) if c not in RUN_COLUMNS]
            body = ", ".join(f'"{c}"' for c in cols) or "1"
            out[f"{schema}.{table}"] = con.execute(
                f"select count(*), coalesce(sum(hash({body})::hugeint), 0)::varchar from {schema}.{table}").fetchone()
    return out


def test_same_secret_same_warehouse(run):
    _, dbs, secrets = run
    a, a2 = _checksums(dbs["a"], secrets["a"]), _checksums(dbs["a2"], secrets["a"])
    assert a.keys() == a2.keys() and len(a) > 40
    assert {t for t in a if a[t] != a2[t]} == set()


def test_another_secret_new_keys_same_numbers(run):
    _, dbs, secrets = run
    with _con(dbs["a"], secrets["a"]) as ca, _con(dbs["b"], secrets["b"]) as cb:
        ind = "select * exclude (geo_name_fr, geo_name_ar) from mart.indicators order by all"
        assert ca.execute(ind).df().equals(cb.execute(ind).df())
        ka = {k for (k,) in ca.execute("select pupil_key from core.dim_pupil").fetchall()}
        kb = {k for (k,) in cb.execute("select pupil_key from core.dim_pupil").fetchall()}
        assert len(ka) == len(kb) > 100 and not ka & kb
        ga = {k for (k,) in ca.execute("select guardian_key from mart.household").fetchall()}
        gb = {k for (k,) in cb.execute("select guardian_key from mart.household").fetchall()}
        assert len(ga) == len(gb) > 50 and not ga & gb
        for table in ("mart.household", "ops.duplicate_candidate", "mart.tayssir_reconciliation"):
            n = f"select count(*) from {table}"
            assert ca.execute(n).fetchone() == cb.execute(n).fetchone()
    for path_a, path_b in zip(_upper_products(dbs["a"]), _upper_products(dbs["b"]), strict=True):
        with _con(path_a) as ca, _con(path_b) as cb:
            q = "select * exclude (geo_name_fr, geo_name_ar) from mart.indicators order by all"
            assert ca.execute(q).df().equals(cb.execute(q).df())


def test_suppression_holds_in_every_product_above_the_province(run):
    """No published count is 1..k-1; the national pattern is the region's; and an attacker who
    solves every published sum (the auditor's linear programs) pins no suppressed count to within
    fewer than k pupils."""
    _, dbs, _ = run
    db = dbs["a"]
    rules = load_rules()
    national = product_path(db, "national")
    with _con(national) as con:
        small = con.execute("""select count(*) from mart.indicators where not suppressed and value > 0
                               and value < $k and indicator in (select unnest($c))""",
                            {"k": rules.k, "c": list(rules.counts)}).fetchone()[0]
        assert small == 0
        flags = con.execute("""select count(*) filter (suppressed), count(*) filter (suppressed and value is null
                               and flag = 'c'), count(*) filter (not suppressed and flag is null)
                               from mart.indicators""").fetchone()
        total = con.execute("select count(*) from mart.indicators").fetchone()[0]
        assert flags[0] == flags[1] > 20 and flags[0] + flags[2] == total
        suppressed = con.execute("""select geo_level, geo_code, school_year, month, indicator
                                    from mart.indicators where suppressed""").df()
    with _con(product_path(db, "region", REGION)) as con:
        region = con.execute("select geo_level, geo_code, school_year, month, indicator from mart.indicators "
                             "where suppressed").df()
    key = ["geo_level", "geo_code", "school_year", "month", "indicator"]
    in_region = suppressed[suppressed["geo_level"] != "national"].sort_values(key).reset_index(drop=True)
    assert in_region.astype(str).equals(region.sort_values(key).reset_index(drop=True).astype(str))
    with _con(db) as con:
        # a naive table (primary suppression only) would have been recoverable
        primary = con.execute("""select count(*) from mart.indicators where value > 0 and value < $k
                                 and indicator in (select unnest($c))""",
                              {"k": rules.k, "c": list(rules.counts)}).fetchone()[0]
        assert primary > 5
        con.execute("""create temp table geo_parent as select distinct geo_level, geo_code,
                       ancestor_level as parent_level, ancestor_code as parent_code
                       from core.geo_ancestor where depth = 1""")
        result = audit(con, "mart.indicators", suppressed, rules, "geo_parent")
    assert len(result) > 20 and result["ok"].all(), result[~result["ok"]].head()
    assert (result["upper"] - result["lower"]).min() >= rules.k


def test_secret_problems_stop_the_load_before_anything_is_written(run, tmp_path, capsys, monkeypatch):
    landing, dbs, secrets = run
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("DAAM_SECRET_FILE", str(tmp_path / "missing.secret"))
    assert daam(["load", "--landing", str(landing), "--warehouse", str(db)]) == 2
    assert "does not exist" in capsys.readouterr().err and not db.exists()
    monkeypatch.delenv("DAAM_SECRET_FILE")
    assert daam(["load", "--landing", str(landing), "--warehouse", str(db)]) == 2
    assert "DAAM_SECRET_FILE is not set" in capsys.readouterr().err and not db.exists()
    short = tmp_path / "short.secret"
    short.write_text("tooshort")
    short.chmod(0o600)
    monkeypatch.setenv("DAAM_SECRET_FILE", str(short))
    assert daam(["load", "--landing", str(landing), "--warehouse", str(db)]) == 2
    assert "at least 32" in capsys.readouterr().err and not db.exists()
    # the right kind of file, but not the secret the warehouse's keys were made with
    before = _checksums(dbs["b"], secrets["b"])
    monkeypatch.setenv("DAAM_SECRET_FILE", str(secrets["a"]))
    assert daam(["load", "--landing", str(landing), "--warehouse", str(dbs["b"]), "--force"]) == 1
    assert "another secret" in capsys.readouterr().err
    assert _checksums(dbs["b"], secrets["b"]) == before


def test_publish_command(run, capsys):
    _, dbs, _ = run
    db = str(dbs["a"])
    assert daam(["publish", "--warehouse", db, "--province", "999"]) == 2
    assert "unknown directorate code(s) 999" in capsys.readouterr().err
    assert daam(["publish", "--warehouse", db, "--province", "101", "--kind", "province"]) == 0
    out = capsys.readouterr().out
    assert "published/province/101.duckdb" in out
    with _con(product_path(db, "province", "101")) as con:  # a directorate without data: empty, valid
        assert con.execute("select count(*) from core.pupil_identity").fetchone()[0] == 0
        assert con.execute("select count(*) from mart.indicators").fetchone()[0] == 0
        assert con.execute("select kind, code from ops.product").fetchall() == [("province", "101")]
    # a warehouse written by an older daam (a view of a product's audience missing) gains it first,
    # rather than failing on it (a traceback, found on a nation warehouse of an earlier commit)
    with duckdb.connect(db) as con:
        con.execute("drop view mart.submission_month")
        con.execute("update ops.schema_version set fingerprint = 'an older daam'")
    assert daam(["publish", "--warehouse", db, "--province", "101", "--kind", "province"]) == 0
    with _con(product_path(db, "province", "101")) as con:
        assert con.execute("select count(*) from mart.submission_month").fetchone()[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize("scale", ["province", "region"])
def test_suppression_holds_on_generated_data_at_scale(scale, tmp_path):
    """The auditor on the daam generator's own data at province (one directorate) and region
    (eight) scale, loaded end to end: every suppressed count of the national product is at least
    k wide given everything published (minutes: `make test-all`)."""
    landing, db = tmp_path / "landing", tmp_path / "w" / "w.duckdb"
    generate(landing, scale=scale, seed=3, years=["2022-2023"], defects=0.0, truth=False)
    report = run_load(landing, db)
    assert report.ok, report.failed
    rules = load_rules()
    with _con(product_path(db, "national")) as con:
        suppressed = con.execute("""select geo_level, geo_code, school_year, month, indicator
                                    from mart.indicators where suppressed""").df()
        assert con.execute("""select count(*) from mart.indicators where not suppressed and value > 0
                              and value < $k and indicator in (select unnest($c))""",
                           {"k": rules.k, "c": list(rules.counts)}).fetchone()[0] == 0
    assert len(suppressed) > 100
    with _con(db) as con:
        con.execute("""create temp table geo_parent as select distinct geo_level, geo_code,
                       ancestor_level as parent_level, ancestor_code as parent_code
                       from core.geo_ancestor where depth = 1""")
        result = audit(con, "mart.indicators", suppressed, rules, "geo_parent")
    assert len(result) > 50 and result["ok"].all(), result[~result["ok"]].head()
