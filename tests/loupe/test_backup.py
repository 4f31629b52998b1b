"""``loupe backup`` / ``loupe restore``: the indexed demo (tiny model) backed up, restored into
a fresh data directory, and asked the same searches through the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from loupe.catalog_dump import table_counts
from loupe.cli import cli

QUERIES = ["a portrait of a woman", "ships at sea", "flowers in a vase", "a landscape with trees"]


def _run(data_dir: Path, *args: str, ok: bool = True):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def _answers(settings) -> dict:
    """Search results through the API: text queries, and similar regions of the first hit."""
    from search_service.app import create_app
    from search_service.services import Services

    services = Services(settings, index_role="backup test")
    try:
        client = create_app(settings, services=services).test_client()
        answers = {}
        for q in QUERIES:
            response = client.get("/api/search", query_string={"q": q, "limit": 8})
            assert response.status_code == 200, response.get_json()
            answers[q] = _without_timings(response.get_json())
        first = answers[QUERIES[0]]["results"][0]["id"]
        similar = client.get(f"/api/similar/{first}", query_string={"limit": 8})
        assert similar.status_code == 200, similar.get_json()
        answers["similar"] = _without_timings(similar.get_json())
        return answers
    finally:
        services.close()


def test_a_restore_answers_the_same_searches(private_settings, tmp_path) -> None:
    models = private_settings.models_dir / "combiner"
    models.mkdir(parents=True)
    (models / "weights.bin").write_bytes(b"\x00weights")
    (private_settings.data_dir / "guides" / "tour").mkdir(parents=True)
    (private_settings.data_dir / "guides" / "tour" / "guide.json").write_text("{}")
    _own_published_folder(private_settings)
    before = _answers(private_settings)
    assert before[QUERIES[0]]["results"], "the demo should find something"

    backup = tmp_path / "backup"
    _run(private_settings.data_dir, "backup", str(backup))
    manifest = json.loads((backup / "backup.json").read_text())
    assert manifest["index_points"] and sum(manifest["catalog_rows"].values()) > 0
    assert not (backup / "files" / "cache").exists()  # fetched again when needed

    fresh = tmp_path / "fresh" / "var"
    _run(fresh, "restore", str(backup))
    restored = private_settings.replace(data_dir=fresh)
    assert (fresh / "models" / "combiner" / "weights.bin").read_bytes() == b"\x00weights"
    assert (fresh / "guides" / "tour" / "guide.json").is_file()
    original, copy = _table_counts(private_settings), _table_counts(restored)
    assert {name: copy.get(name) for name in original} == original  # (empty tables of other stores may be added)
    [old_source], [new_source] = _sources(private_settings), _sources(restored)
    assert Path(new_source.pop("local_path")).is_relative_to(fresh.resolve())  # the published folder moved along
    old_source.pop("local_path")
    assert new_source == old_source  # JSON (allowed_hosts), dates and flags survive the dump
    after = _answers(restored)
    for key in before:
        _same(before[key], after[key], key)
    assert after == before


def test_restore_refuses_a_data_directory_in_use_unless_forced(private_settings, tmp_path) -> None:
    backup = tmp_path / "backup"
    _run(private_settings.data_dir, "backup", str(backup))
    again = _run(private_settings.data_dir, "backup", str(backup), ok=False)
    assert again.exit_code != 0 and "not empty" in again.output
    refused = _run(private_settings.data_dir, "restore", str(backup), ok=False)
    assert refused.exit_code != 0 and "not empty" in refused.output and "--force" in refused.output
    _run(private_settings.data_dir, "restore", str(backup), "--force")
    assert _table_counts(private_settings)["sources"] == 1


def test_restore_of_something_else_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "nothing").mkdir()
    result = _run(tmp_path / "var", "restore", str(tmp_path / "nothing"), ok=False)
    assert result.exit_code != 0 and "not a Loupe backup" in result.output


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def _same(a, b, where: str) -> None:
    """Assert equality, naming the first difference (the answers are large)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), (where, a.keys() ^ b.keys())
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


def _own_published_folder(settings) -> None:
    """The private copy's static source reads the session's pristine folder
    (tests/support/demo.py); a real data directory's reads its own."""
    from connector.catalog.schema import Source

    engine = create_engine(settings.catalog)
    try:
        with engine.begin() as conn:
            conn.execute(Source.__table__.update().values(
                local_path=str((settings.published_dir / "demo").resolve())))
    finally:
        engine.dispose()


def _sources(settings) -> list[dict]:
    from connector.catalog.schema import Source

    engine = create_engine(settings.catalog)
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(Source.__table__.select())]
    finally:
        engine.dispose()


def _table_counts(settings) -> dict[str, int]:
    engine = create_engine(settings.catalog)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _tiny_model(monkeypatch):
    """The CLI reads the environment: the same test settings as the fixtures."""
    monkeypatch.setenv("LOUPE_MODEL", "loupe-tiny")
    monkeypatch.setenv("LOUPE_MODEL_DOWNLOAD", "false")
    monkeypatch.setenv("LOUPE_IMAGE_MAX_SIDE", "256")


def test_the_dump_moves_between_sqlite_and_postgresql(private_settings, postgres_server, tmp_path) -> None:
    from connector.catalog import Catalog
    from loupe.backup import backup, restore
    from tests.support.postgres import fresh_database

    _own_published_folder(private_settings)
    before = _answers(private_settings)
    backup(private_settings, tmp_path / "from-sqlite")
    on_postgres = private_settings.replace(data_dir=tmp_path / "pg" / "var",
                                           catalog_url=fresh_database(postgres_server))
    restore(on_postgres, tmp_path / "from-sqlite")
    original = _table_counts(private_settings)
    assert {name: _table_counts(on_postgres).get(name) for name in original} == original
    assert _answers(on_postgres) == before
    catalog = Catalog.open(on_postgres)  # the id sequences moved past the restored rows
    try:
        assert catalog.add_source("https://iiif.example.org/c.json").id == 2
    finally:
        catalog.close()

    backup(on_postgres, tmp_path / "from-postgres")
    back_on_sqlite = private_settings.replace(data_dir=tmp_path / "sqlite-again" / "var")
    restore(back_on_sqlite, tmp_path / "from-postgres")
    assert _table_counts(back_on_sqlite)["sources"] == 2
    assert _sources(back_on_sqlite)[0]["allowed_hosts"] == _sources(private_settings)[0]["allowed_hosts"]
