"""`loupe source schedule` and one round of the scheduler on the harvested demo: not due, due,
harvested, indexing queued only for a change, a failing source tried again later."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import update

from connector.catalog import Catalog
from connector.catalog.schema import ManifestRow
from loupe.cli import cli
from loupe.scheduler import Scheduler
from training_worker.jobs import JobStore


def test_schedule_command_and_a_round(demo_settings, monkeypatch):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(demo_settings.data_dir))
    runner = CliRunner()
    bad = runner.invoke(cli, ["source", "schedule", "demo", "--every", "often"])
    assert bad.exit_code != 0 and "give a number with s, m, h or d" in bad.output
    done = runner.invoke(cli, ["source", "schedule", "demo", "--every", "1h", "--window", "00:00-23:59"])
    assert done.exit_code == 0, done.output
    catalog = Catalog.open(demo_settings)
    try:
        src = catalog.get_source("demo")
        assert (src.harvest_every_s, src.harvest_window) == (3600, "00:00-23:59")
        harvested = src.last_harvest_at
        clock = {"now": harvested + timedelta(minutes=30)}
        scheduler = Scheduler(demo_settings.replace(model="loupe-tiny"), clock=lambda: clock["now"])
        try:
            assert scheduler.run_once() == []  # not due yet
            clock["now"] = harvested.replace(hour=12) + timedelta(days=1)
            unchanged = scheduler.run_once()
            assert [o["state"] for o in unchanged] == ["harvested"] and "index_job" not in unchanged[0]
            # A manifest changed at the source (here: its stored state forgotten): indexing is queued.
            with catalog.session() as s:
                uri = s.scalars(ManifestRow.__table__.select().with_only_columns(ManifestRow.uri)).first()
                s.execute(update(ManifestRow).where(ManifestRow.uri == uri).values(content_hash="x", etag=None,
                                                                                  last_modified=None))
                s.commit()
            clock["now"] += timedelta(days=1)
            changed = scheduler.run_once()
            assert changed[0]["counts"]["updated"] == 1 and changed[0]["index_job"], changed
            with JobStore.open(demo_settings) as store:
                job = store.get(changed[0]["index_job"])
            assert job.kind == "index" and job.state == "queued" and job.params["source"] == str(src.id)
            assert catalog.get_source("demo").last_harvest_at > harvested
        finally:
            scheduler.close()
    finally:
        catalog.close()
    off = runner.invoke(cli, ["source", "schedule", "demo", "--off"])
    assert off.exit_code == 0 and "no scheduled harvest" in off.output
