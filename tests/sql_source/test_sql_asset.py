"""The Dagster side: the MassarReplica resource and the landing/sql_extract asset."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, DagsterInvalidConfigError, Definitions, materialize

from assets.landing import sql_extract
from assets.resources import SQL_URL_ENV, LandingZone, MassarReplica
from tests.conftest import FILES
from tests.sql_source import replica


def _materialize(replica: MassarReplica, landing: Path, **config):
    resources = {"massar_replica": replica, "landing": LandingZone(root=str(landing))}
    return materialize([sql_extract], resources=resources,
                       run_config={"ops": {"landing__sql_extract": {"config": config}}} if config else None,
                       instance=DagsterInstance.ephemeral(), raise_on_error=False)


def _metadata(result) -> dict:
    (mat,) = result.asset_materializations_for_node("landing__sql_extract")
    return {k: v.value for k, v in mat.metadata.items()}


def test_the_asset_extracts_and_reports_counts(replica_db, tmp_path: Path):
    url = replica_db.engine.url.render_as_string(hide_password=False)
    resource = MassarReplica(url=url, db_schema=replica_db.schema)
    result = _materialize(resource, tmp_path / "landing")
    assert result.success
    meta = _metadata(result)
    assert (meta["tables_read"], meta["files_written"], meta["files_unchanged"], meta["groups_refused"]) == (
        8, len(FILES), 0, 0)
    assert meta["rows_read"] == 19 and sorted(meta["written"]) == sorted(FILES)
    assert "daam:daam@" not in meta["source"]  # the password is never shown
    again = _metadata(_materialize(resource, tmp_path / "landing", full=True))
    assert (again["files_written"], again["files_unchanged"]) == (0, len(FILES))


def test_the_url_defaults_to_the_environment(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    replica.create(sa.create_engine(url))
    monkeypatch.setenv(SQL_URL_ENV, url)
    result = _materialize(MassarReplica(), tmp_path / "landing", record_types=["attendance"])
    assert result.success and _metadata(result)["files_written"] == 1
    monkeypatch.delenv(SQL_URL_ENV)
    with pytest.raises(DagsterInvalidConfigError, match=SQL_URL_ENV):
        _materialize(MassarReplica(), tmp_path / "landing")


def test_the_asset_in_definitions():
    resources = {"massar_replica": MassarReplica(), "landing": LandingZone(root="data/landing")}
    defs = Definitions(assets=[sql_extract], resources=resources)
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey(["landing", "sql_extract"]))
    assert node.group_name == "landing" and "Massar replica" in node.description
