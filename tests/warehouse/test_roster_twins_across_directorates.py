"""A pupil on the rosters of two directorates of one school year: both rosters carry the warning,
whichever directorate loads first, and a corrected roster clears it on the other one too, which
is not reloaded for it (warehouse/build/roster_twins.py)."""
from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.load import run_load
from tests.conftest import fail_core, write_files

YEAR = "2022-2023"
REFERENTIAL = ("CD_ETAB,NOM_ETABL,NOM_ETABA,CD_PROV,cd_com,CD_MIL,LL_CYCLE\n"
               "19904J,ECOLE A,مدرسة أ,110,110003,U,PRIMAIRE\n"
               "19905K,ECOLE B,مدرسة ب,110,110003,U,PRIMAIRE\n"
               "20649U,ECOLE C,مدرسة ج,111,111001,U,PRIMAIRE\n")
HEADER = "massar_code,last_name_ar,first_name_ar,gender,birth_date,level,guardian_cin\n"
MOVED = "J130245871,العلوي,محمد,M,2015-02-01,2AP,S123456\n"  # on a roster of each directorate
STAYED = "J130245872,الإدريسي,فاطمة,F,2014-05-03,3AP,S123457\n"
SIBLING = "J130245873,الإدريسي,سلمى,F,2016-05-03,1AP,S123457\n"
ROSTER_110 = f"{YEAR}/students/19904J.csv"
ROSTER_111 = f"{YEAR}/students/20649U.csv"


def _warnings(db: Path) -> dict:
    """What the warehouse says of the rule, file by file: open issues, warned staged rows, the
    manifest's warned count; and whether staging.students's digest of each partition is its rows'."""
    with duckdb.connect(str(db), read_only=True) as con:
        issues = con.execute("""select file_path, row_number, status, raw_value, message_fr from ops.row_issue
                                where rule = 'pupil_on_two_rosters' order by all""").fetchall()
        warned = con.execute("""select file_path, row_number from staging.students where is_warned
                                order by all""").fetchall()
        manifest = dict(con.execute("""select file_path, rows_warned from ops.file_manifest
                                       where record_type = 'students' and status = 'loaded'""").fetchall())
        digests = con.execute("""
            select d.province_code, d.rows = t.n and d.digest = t.h
            from ops.partition_digest d
            join (select province_code, count(*) as n, sum(hash(s)::hugeint) as h from staging.students s
                  group by all) t using (province_code)
            where d.model = 'staging.students' order by 1""").fetchall()
    return {"open": [i[:2] for i in issues if i[2] == "open"],
            "resolved": [i[:2] for i in issues if i[2] == "resolved"],
            "raw_values": sorted({i[3] for i in issues}), "messages": sorted({i[4] for i in issues}),
            "warned": warned, "manifest": manifest, "digests": digests}


def _reconciled(db: Path) -> list[tuple]:
    """ops.roster_twins: per school year, the rows the last reconciliation warned and cleared, in how
    many directorates, and when."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select school_year, rows_warned, rows_cleared, directorates, reconciled_at "
                           "from ops.roster_twins order by all").fetchall()


def _pupil_on_both_rosters(tmp_path: Path) -> tuple[Path, Path]:
    """A landing zone where MOVED is on a roster of 110 (with STAYED) and of 111; the warehouse's path."""
    landing = tmp_path / "landing"
    write_files(landing, {
        "reference/schools/2022-09-01.csv": REFERENTIAL,
        ROSTER_110: HEADER + MOVED + STAYED,
        ROSTER_111: HEADER + MOVED,
    })
    return landing, tmp_path / "w.duckdb"


def test_both_directorates_warned_and_cleared_together(tmp_path: Path):
    landing, db = _pupil_on_both_rosters(tmp_path)
    first = run_load(landing, db)
    assert first.ok and first.partitions == [(YEAR, "110"), (YEAR, "111")]  # 110's roster is staged first
    after_load = _warnings(db)
    assert after_load["open"] == [(ROSTER_110, 2), (ROSTER_111, 2)]
    assert after_load["warned"] == [(ROSTER_110, 2), (ROSTER_111, 2)]
    assert after_load["manifest"] == {ROSTER_110: 1, ROSTER_111: 1}
    assert after_load["raw_values"] == ["J130245871"]
    assert after_load["messages"] == [("L'élève « J130245871 » figure aussi sur la liste d'un autre établissement "
                                       "cette année : vérifiez s'il a été transféré.")]
    assert after_load["digests"] == [("110", True), ("111", True)]
    # 111's staging warned its own row against 110's roster; 110's row was the step's to warn
    [(year, warned, cleared, directorates, first_at)] = _reconciled(db)
    assert (year, warned, cleared, directorates) == (YEAR, 1, 0, 1)

    rerun = run_load(landing, db)
    assert rerun.ok and rerun.partitions == [] and _warnings(db) == after_load
    assert _reconciled(db) == [(YEAR, 1, 0, 1, first_at)]  # the year's rosters unchanged: not reconciled again

    # 111 corrects its roster: the pupil was never there. 111 alone is reloaded (a partition's
    # fingerprint holds its own rosters), and the step after it clears 110's warning.
    write_files(landing, {ROSTER_111: HEADER + SIBLING})
    corrected = run_load(landing, db)
    assert corrected.ok and corrected.partitions == [(YEAR, "111")] and corrected.unchanged == [(YEAR, "110")]
    assert [r[:4] for r in _reconciled(db)] == [(YEAR, 0, 1, 1)]
    after_fix = _warnings(db)
    assert after_fix["open"] == [] and after_fix["warned"] == []
    assert (ROSTER_110, 2) in after_fix["resolved"]
    assert after_fix["manifest"] == {ROSTER_110: 0, ROSTER_111: 0}
    assert after_fix["digests"] == [("110", True), ("111", True)]

    # and back: 111 lists the pupil again, the warning opens again on 110's row too
    write_files(landing, {ROSTER_111: HEADER + SIBLING + MOVED})
    back = run_load(landing, db)
    assert back.ok and back.partitions == [(YEAR, "111")]
    again = _warnings(db)
    assert again["open"] == [(ROSTER_110, 2), (ROSTER_111, 3)]
    assert again["warned"] == [(ROSTER_110, 2), (ROSTER_111, 3)]
    assert again["manifest"] == {ROSTER_110: 1, ROSTER_111: 1}
    assert again["digests"] == [("110", True), ("111", True)]


def test_a_pupil_at_two_schools_of_one_directorate_stays_warned_when_a_third_leaves(tmp_path: Path):
    """Resolving on another directorate's row only when its pupil is on two schools no more: here
    the pupil is still at 19904J and 19905K (both 110) when 111 drops it."""
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    write_files(landing, {
        "reference/schools/2022-09-01.csv": REFERENTIAL,
        ROSTER_110: HEADER + MOVED,
        f"{YEAR}/students/19905K.csv": HEADER + MOVED,
        ROSTER_111: HEADER + MOVED,
    })
    assert run_load(landing, db).ok
    assert _warnings(db)["open"] == [(ROSTER_110, 2), (f"{YEAR}/students/19905K.csv", 2), (ROSTER_111, 2)]
    write_files(landing, {ROSTER_111: HEADER + STAYED})
    assert run_load(landing, db).ok
    state = _warnings(db)
    assert state["open"] == [(ROSTER_110, 2), (f"{YEAR}/students/19905K.csv", 2)]
    assert state["warned"] == [(ROSTER_110, 2), (f"{YEAR}/students/19905K.csv", 2)]
    assert state["digests"] == [("110", True), ("111", True)]


def test_a_load_that_failed_somewhere_still_warns_both_rosters(tmp_path: Path, monkeypatch):
    """The readers' copy waits for a load that completes everywhere, but the roster warnings are
    made true after every load (staging commits a partition whole): 111's core step fails, 111's
    staged roster still counts, and 110's row is warned."""
    fail_core(monkeypatch, lambda scope: scope.province == "111")
    landing, db = _pupil_on_both_rosters(tmp_path)
    report = run_load(landing, db)
    assert report.failed and report.failed[0].startswith(f"{YEAR}/111: core_facts") and report.published is None
    state = _warnings(db)
    assert state["open"] == [(ROSTER_110, 2), (ROSTER_111, 2)] and state["manifest"] == {ROSTER_110: 1, ROSTER_111: 1}
    assert [r[:4] for r in _reconciled(db)] == [(YEAR, 1, 0, 1)]


def test_no_warning_where_the_catalogue_does_not_apply_the_rule(tmp_path: Path, monkeypatch):
    """The step follows the catalogue like the partition's own staging: where the rule applies to no
    roster (configs/), it opens nothing."""
    from quality_checks import sql_rules

    real = sql_rules.applies_to
    monkeypatch.setattr(sql_rules, "applies_to",
                        lambda rule_id, spec: rule_id != "pupil_on_two_rosters" and real(rule_id, spec))
    landing, db = _pupil_on_both_rosters(tmp_path)
    assert run_load(landing, db).ok
    state = _warnings(db)
    assert state["open"] == [] and state["warned"] == [] and state["manifest"] == {ROSTER_110: 0, ROSTER_111: 0}
