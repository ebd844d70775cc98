"""A product is rewritten only when its rows change (warehouse/products.py, input fingerprint):
after a publish with nothing new every file is kept (only touched), and a change in one
directorate rewrites that directorate's product, its region's and the nation's, and no other. The
reports follow: a page is redrawn only when its product's rows (or the code) changed."""

from __future__ import annotations

import hashlib
import shutil

import duckdb

from tests.reports.conftest import PROVINCES, REGION
from warehouse.products import build_products, product_path
from warehouse.registry import registry
from warehouse.site.build import build_site


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _contents(path) -> dict:
    """Every table of a product: its columns and types, rows and sum of row hashes; and what the
    product says it was made from."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema || '.' || table_name from information_schema.tables "
                             "where table_name <> 'product' order by 1").fetchall()
        out = {name: (con.execute(f"describe {name}").fetchall(),
                      con.execute(f"select count(*), sum(hash(t)::hugeint) from {name} t").fetchall())
               for (name,) in tables}
        out["ops.product"] = con.execute("select kind, code, tables, input_fingerprint, table_fingerprints "
                                         "from ops.product").fetchall()
    assert len(out) > 40
    return out


def test_only_the_products_whose_rows_changed_are_rewritten(site, tmp_path):
    shutil.copytree(site.warehouse.parent, tmp_path / "data", ignore=shutil.ignore_patterns("site", "*.wal"))
    warehouse = tmp_path / "data" / site.warehouse.name
    paths = {("province", p): product_path(warehouse, "province", p) for p in PROVINCES}
    paths |= {("region", REGION): product_path(warehouse, "region", REGION),
              ("national", "MA"): product_path(warehouse, "national")}
    before = {k: _digest(p) for k, p in paths.items()}
    times = {k: p.stat().st_mtime_ns for k, p in paths.items()}

    again = build_products(warehouse)
    assert {(p.kind, p.code): p.reused for p in again.products} == {k: True for k in paths}
    assert {k: _digest(p) for k, p in paths.items()} == before  # not rewritten...
    assert all(p.stat().st_mtime_ns > times[k] for k, p in paths.items())  # ...but found current
    assert all(p.tables["mart.indicators"] > 0 for p in again.products)
    out = tmp_path / "site"
    first = build_site(warehouse, out)
    assert first.unchanged == 0 and len(first.pages) == 2 * (len(paths) + 3)
    assert build_site(warehouse, out).unchanged == len(first.pages)

    # one school of the second directorate sends a corrected roster: one value changes
    with duckdb.connect(str(warehouse)) as con:
        school = con.execute("select geo_code from mart.indicators where geo_level = 'school' and "
                             "indicator = 'enrolled_pupils' and geo_code in (select school_code from "
                             "core.dim_school where province_code = ?) order by 1 limit 1",
                             [PROVINCES[1]]).fetchall()[0][0]
        con.execute("update mart.indicators set value = value + 7 where geo_level = 'school' and geo_code = ? "
                    "and indicator = 'enrolled_pupils'", [school])
    changed = build_products(warehouse)
    rewritten = {(p.kind, p.code) for p in changed.products if not p.reused}
    assert rewritten == {("province", PROVINCES[1]), ("region", REGION), ("national", "MA")}
    # the rewritten directorate product kept every table but the one that changed...
    province = next(p for p in changed.products if p.code == PROVINCES[1])
    assert province.kept == len(registry().visible_to("province")) - 1
    # ...and holds what a product written from nothing holds, table for table
    fresh = tmp_path / "fresh"
    shutil.copytree(warehouse.parent, fresh, ignore=shutil.ignore_patterns("published", "site", "*.wal", "*.json"))
    build_products(fresh / warehouse.name, provinces=[PROVINCES[1]], kinds=("province",))
    assert _contents(paths["province", PROVINCES[1]]) == _contents(product_path(fresh / warehouse.name, "province",
                                                                                PROVINCES[1]))
    assert _digest(paths["province", PROVINCES[0]]) == before["province", PROVINCES[0]]
    assert _digest(paths["province", PROVINCES[1]]) != before["province", PROVINCES[1]]
    with duckdb.connect(str(paths["province", PROVINCES[1]]), read_only=True) as con:
        fingerprint = con.execute("select input_fingerprint from ops.product").fetchall()[0][0]
    assert fingerprint == next(p.fingerprint for p in changed.products if p.code == PROVINCES[1])

    stamps = {p: p.stat().st_mtime_ns for p in first.pages}
    redrawn = build_site(warehouse, out)
    names = {p.relative_to(out).as_posix() for p in redrawn.pages if p.stat().st_mtime_ns != stamps[p]}
    assert names == {f"{lang}/{name}" for lang in ("ar", "fr") for name in (
        f"province-{PROVINCES[1]}.html", f"region-{REGION}.html", "national.html", "dictionary-region.html",
        "dictionary-national.html")}
    assert redrawn.unchanged == len(first.pages) - len(names)


def test_the_directorates_fingerprinted_together_equal_each_alone(site, tmp_path):
    """The directorate products are fingerprinted in one pass per model, grouped by directorate
    (warehouse/product_fingerprint.py): each must equal the product's fingerprint computed alone,
    one query per model over its own scope (`_select`), model by model, for the fixture's two
    directorates, a directorate of the same region without data, and one of another region. Rows
    that belong to two directorates' products (a pupil at schools of both, a duplicate pair across
    them) are added, since the tiny zone has none."""
    from daam.config import load_settings
    from warehouse import products
    from warehouse.registry import registry

    shutil.copytree(site.warehouse.parent, tmp_path / "data", ignore=shutil.ignore_patterns("site", "*.wal"))
    warehouse = tmp_path / "data" / site.warehouse.name
    a, b = PROVINCES
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into mart.pupil_in_two_schools (school_year, kind, month, pupil_key, province_codes) "
                    "values ('2022-2023', 'roster', '', 1, [$a, $b]), ('2022-2023', 'roster', '', 2, [$b, $b]), "
                    "('2022-2023', 'attendance', '10', 3, [$a, '101'])", {"a": a, "b": b})
        con.execute("insert into ops.duplicate_candidate (school_year, pupil_key_a, pupil_key_b, province_code_a, "
                    "province_code_b) values ('2022-2023', 1, 2, $a, $b), ('2022-2023', 3, 4, $b, $b), "
                    "('2022-2023', 5, 6, '101', $a)", {"a": a, "b": b})
    settings = load_settings()
    codes = [*PROVINCES, "112", "101"]
    models = registry().visible_to("province")
    con = products._connect(warehouse)
    try:
        columns = products._share_once(con)
        together = products._province_fingerprints(con, codes, settings, columns)
        alone = {}
        for code in codes:
            lists = products._scope(con, "province", code, settings)
            alone[code] = products._fingerprint(con, "province", code, models,
                                                products._names("province", code, settings), None, lists, columns)
    finally:
        con.close()
    for code in codes:
        assert together[code].rows == alone[code].rows, code
        assert together[code].tables == alone[code].tables, code
        assert together[code].fingerprint == alone[code].fingerprint, code
    rows = {code: together[code].rows for code in codes}
    assert [rows[c]["mart.pupil_in_two_schools"] for c in codes] == [2, 2, 0, 1]
    assert [rows[c]["ops.duplicate_candidate"] for c in codes] == [2, 2, 0, 1]
    # the fixture exercises the other scopes: pupils, guardians, schools, units, directorates
    for name in ("core.dim_pupil", "mart.household", "core.fct_attendance", "mart.indicators", "ops.row_issue",
                 "core.pupil_listing"):
        assert rows[a][name] > 0 and rows[b][name] > 0 and rows["112"][name] == 0, name
    assert len({inputs.fingerprint for inputs in together.values()}) == len(codes)


def test_the_listing_fingerprinted_from_its_inputs_follows_them_and_the_secret(site, tmp_path, monkeypatch):
    """core.pupil_listing is fingerprinted from what it is made of (product_fingerprint.FROM_INPUTS),
    not from its rows: a changed roster row of one directorate (staging.students, which no product
    holds) must change that directorate's listing fingerprint and no other's, and another secret
    (other pupil keys) must change them all."""
    from daam.config import load_settings
    from daam.secret import SECRET_ENV, create_secret
    from warehouse import partition_digest, products

    shutil.copytree(site.warehouse.parent, tmp_path / "data", ignore=shutil.ignore_patterns("site", "*.wal"))
    warehouse = tmp_path / "data" / site.warehouse.name
    a, b = PROVINCES

    def listing() -> dict[str, tuple[int, str, list]]:
        con = products._connect(warehouse)
        try:
            columns = products._share_once(con)
            found = products._province_fingerprints(con, [a, b], load_settings(), columns)
            keys = {code: con.execute("select list(pupil_key order by all) from core.pupil_listing "
                                      "where province_code = ? and source = 'roster'", [code]).fetchone()[0]
                    for code in (a, b)}
        finally:
            con.close()
        return {code: (found[code].rows["core.pupil_listing"], found[code].tables["core.pupil_listing"], keys[code])
                for code in (a, b)}

    before = listing()
    with duckdb.connect(str(warehouse)) as con:
        count = con.execute("select count(*) from core.pupil_listing where province_code = ?", [b]).fetchone()[0]
        con.execute("update staging.students set massar_code = 'Z' || massar_code where massar_code = (select "
                    "min(massar_code) from staging.students where province_code = ? and not is_quarantined "
                    "and not is_duplicate_copy)", [b])
        # as staging's writer does after writing a partition's rows (warehouse/partition_digest.py)
        for year, in con.execute("select distinct school_year from staging.students where province_code = ?",
                                 [b]).fetchall():
            partition_digest.record(con, registry()["staging.students"], year, b)
    assert before[b][0] == count > 0
    after = listing()
    assert after[a] == before[a]
    assert after[b][0] == before[b][0] and after[b][2] != before[b][2]  # same rows, one other key...
    assert after[b][1] != before[b][1]  # ...so another fingerprint

    monkeypatch.setenv(SECRET_ENV, str(create_secret(tmp_path / "other.secret")))
    other = listing()
    assert all(other[code][1] != after[code][1] and other[code][2] != after[code][2] for code in (a, b))


def test_partition_digests_are_the_sums_of_their_rows_and_are_set_aside_when_they_do_not_account_for_the_table(
        site, tmp_path):
    """The facts and marts partitioned by (school year, directorate) are digested as they are written
    (warehouse/partition_digest.py): added up per directorate, the digests must equal the count and
    sum of row hashes of the rows themselves, model by model, and cover every partition. Rows changed
    behind `materialize`'s back (a partition's rows deleted) or a table whose columns changed make
    the digests unusable: the fingerprints then hash the rows, and still equal each product's alone."""
    from daam.config import load_settings
    from warehouse import partition_digest, products
    from warehouse.product_fingerprint import _grouped

    shutil.copytree(site.warehouse.parent, tmp_path / "data", ignore=shutil.ignore_patterns("site", "*.wal"))
    warehouse = tmp_path / "data" / site.warehouse.name
    a, b = PROVINCES
    codes = [a, b, "112"]
    # the partitioned facts and marts, and the staged rows (digested by staging's writer)
    models = [m for m in registry().models.values()
              if partition_digest.digested(m) or (m.schema == "staging" and m.name != "staging.schools")]
    assert {"core.fct_attendance", "core.fct_tayssir_month", "mart.tayssir_reconciliation", "staging.students",
            "staging.attendance"} <= {m.name for m in models}
    con = products._connect(warehouse)
    try:
        con.execute("create temp table codes as select unnest($c::varchar[]) as code", {"c": codes})
        for model in models:
            cols = {c for c, *_ in con.execute(f"describe {model.name}").fetchall()}
            rows = {code: (n, digest) for code, n, digest in con.execute(
                _grouped(model, model.name, cols, products.SCOPED_COLUMNS)).fetchall()}
            assert partition_digest.stored(con, model, codes) == rows, model.name
            partitions = set(con.execute(f"select distinct school_year, province_code from {model.name}").fetchall())
            assert partitions == set(con.execute("select school_year, province_code from ops.partition_digest "
                                                 "where model = ? and rows > 0", [model.name]).fetchall()), model.name
        attendance = registry().models["core.fct_attendance"]
        assert {c for c, (n, _) in partition_digest.stored(con, attendance, codes).items() if n} == {a, b}
    finally:
        con.close()

    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from core.fct_attendance where province_code = ? and month = (select min(month) "
                    "from core.fct_attendance where province_code = ?)", [b, b])
        con.execute("alter table mart.tayssir_reconciliation add column note varchar")
    settings = load_settings()
    con = products._connect(warehouse)
    try:
        assert partition_digest.stored(con, attendance, codes) is None
        assert partition_digest.stored(con, registry().models["mart.tayssir_reconciliation"], codes) is None
        columns = products._share_once(con)
        together = products._province_fingerprints(con, [a, b], settings, columns)
        for code in (a, b):
            alone = products._fingerprint(con, "province", code, registry().visible_to("province"),
                                          products._names("province", code, settings), None,
                                          products._scope(con, "province", code, settings), columns)
            assert together[code] == alone, code
    finally:
        con.close()


def test_a_publish_and_the_site_read_what_products_were_made_from_in_the_manifest_not_the_files(
        site, tmp_path, monkeypatch):
    """The build records what each product file was made from beside them
    (warehouse/product_manifest.py): the next build and the site use it without opening the files,
    but only for a file exactly as recorded. A file put in place behind the build's back (here
    another directorate's product copied over this one) is opened, found different and rewritten."""
    from warehouse import products
    from warehouse.product_manifest import MANIFEST, load
    from warehouse.site.build import _fingerprints, targets

    shutil.copytree(site.warehouse.parent, tmp_path / "data", ignore=shutil.ignore_patterns("site", "*.wal"))
    warehouse = tmp_path / "data" / site.warehouse.name
    folder = products.products_dir(warehouse)
    first = build_products(warehouse)  # copied files: new inodes, so every file is opened once here
    manifest = load(folder)
    assert set(manifest) == {p.path.relative_to(folder).as_posix() for p in first.products}
    assert all(set(entry) == {"fingerprint", "tables", "held", "identity"} for entry in manifest.values())
    assert {manifest[p.path.relative_to(folder).as_posix()]["fingerprint"] for p in first.products} == \
        {p.fingerprint for p in first.products}

    opened = []
    read = products._read_in_place
    monkeypatch.setattr(products, "_read_in_place", lambda target: opened.append(target) or read(target))
    again = build_products(warehouse)
    assert all(p.reused for p in again.products) and opened == []
    wanted = targets(warehouse, None, None)
    assert set(_fingerprints(warehouse, wanted).values()) == {p.fingerprint for p in again.products}
    assert opened == []

    a, b = (products.product_path(warehouse, "province", code) for code in PROVINCES)
    a.unlink()
    shutil.copyfile(b, a)  # a file the manifest did not record
    third = build_products(warehouse)
    assert opened == [a]
    assert {(p.kind, p.code) for p in third.products if not p.reused} == {("province", PROVINCES[0])}
    with duckdb.connect(str(a), read_only=True) as con:
        assert con.execute("select code from ops.product").fetchall() == [(PROVINCES[0],)]
    assert (folder / MANIFEST).stat().st_mode & 0o777 == 0o600


def test_a_failed_suppression_leaves_the_directorates_and_the_engineers_copy_published(site, tmp_path, monkeypatch):
    """One publish step copies the warehouse for the engineers and builds the products meanwhile
    (assets/publish.py). The directorates' products are written before the suppression is computed:
    when it fails, they and the engineers' copy are published all the same, and recorded as
    materialised; the region and national products stay as they were and the step fails."""
    from dagster import DagsterInstance

    from pipelines.definitions import build_definitions
    from pipelines.load import _failure
    from warehouse import products
    from warehouse.publish import published_path

    shutil.copytree(site.warehouse.parent, tmp_path / "data", ignore=shutil.ignore_patterns("site", "*.wal"))
    warehouse = tmp_path / "data" / site.warehouse.name
    paths = {k: product_path(warehouse, *k) for k in
             [("province", PROVINCES[0]), ("province", PROVINCES[1]), ("region", REGION)]}
    paths["national", None] = product_path(warehouse, "national")
    before = {k: _digest(p) for k, p in paths.items()}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update mart.indicators set value = value + 7 where geo_level = 'province' and geo_code = ? "
                    "and indicator = 'enrolled_pupils'", [PROVINCES[1]])
        changed = con.execute("select sum(value) from mart.indicators where geo_level = 'province' "
                              "and indicator = 'enrolled_pupils'").fetchone()[0]

    def broken(con, warehouse):
        raise RuntimeError("the suppression broke")

    monkeypatch.setattr(products, "_suppressed_tables", broken)
    result = build_definitions(None, str(warehouse)).resolve_job_def("publish_snapshot").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "the suppression broke" in failure.step_failure_data.error.to_string()
    assert _failure(result) == "published: RuntimeError: the suppression broke"  # what `daam load` says, unwrapped
    materialised = {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert {"ops/published_snapshot", "published/province_products"} <= materialised
    assert not materialised & {"published/region_products", "published/national_product"}
    after = {k: _digest(p) for k, p in paths.items()}
    assert after["province", PROVINCES[1]] != before["province", PROVINCES[1]]  # rewritten
    assert [after[k] == before[k] for k in (("province", PROVINCES[0]), ("region", REGION), ("national", None))] \
        == [True, True, True]
    with duckdb.connect(str(published_path(warehouse)), read_only=True) as con:
        assert con.execute("select sum(value) from mart.indicators where geo_level = 'province' "
                           "and indicator = 'enrolled_pupils'").fetchone()[0] == changed
