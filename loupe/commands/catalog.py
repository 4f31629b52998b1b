"""``loupe catalog``: what is in the catalog."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from connector.catalog import Catalog, fulltext
from connector.catalog.schema import ManifestRow
from loupe_core.settings import Settings


@click.group("catalog")
def catalog() -> None:
    """Look at the catalog: counts, harvest runs, problems."""


@catalog.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def stats(settings: Settings, as_json: bool) -> None:
    """Counts of sources, collections, manifests, canvases, images and regions."""

    data = Catalog.open(settings).stats()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for k, v in data.items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk}: {vv}" for kk, vv in sorted(v.items())) or "-"
        click.echo(f"{k:20} {v}")


@catalog.command("runs")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def runs(settings: Settings, limit: int, as_json: bool) -> None:
    """The latest harvest runs."""

    data = Catalog.open(settings).runs(limit=limit)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for r in data:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()))
        click.echo(f"run {r['id']:>4} source {r['source_id']:>3} {r['status']:24} {r['started_at']}  {counts}  "
                   f"{r['problems']} problems")


@catalog.command("problems")
@click.option("--source", "source_ref", default=None, help="Only this source (id, name or URL).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def problems(settings: Settings, source_ref: str | None, as_json: bool) -> None:
    """Manifests with problems, and what is wrong with them."""
    cat = Catalog.open(settings)
    q = select(ManifestRow).where(ManifestRow.status.in_(("problems", "error")))
    if source_ref:
        q = q.where(ManifestRow.source_id == cat.get_source(source_ref).id)
    with cat.session() as s:
        rows = [{"manifest": m.uri, "status": m.status, "problems": m.problems} for m in s.scalars(q)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no manifests with problems")
    for r in rows:
        click.echo(f"{r['status']:8} {r['manifest']}")
        for p in r["problems"][:10]:
            click.echo(f"    {p['severity']}: {p['where']}: {p['what']}")


@catalog.command("fulltext")
@click.option("--rebuild", is_flag=True, help="Rewrite the whole index from the catalog's rows.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def fulltext_index(settings: Settings, rebuild: bool, as_json: bool) -> None:
    """The full-text index of region texts, labels and metadata (Content Search,
    autocomplete, text in /api/search): documents held against the catalog's rows. It
    follows every harvest, review and deletion by itself and is built when a catalog without
    it is opened; --rebuild rewrites it (after changing the catalog by other means)."""

    cat = Catalog.open(settings)
    data: dict = {}
    with cat.engine.begin() as conn:
        if rebuild:
            data["rebuilt"] = fulltext.rebuild(conn)
        data.update(fulltext.status(conn))
    cat.close()
    if as_json:
        click.echo(json.dumps(data))
        return
    if rebuild:
        r = data["rebuilt"]
        click.echo(f"rebuilt: {r['regions']:,} regions, {r['manifests']:,} manifests in {r['seconds']} s")
    click.echo(f"regions:   {data['regions']:,} indexed of {data['catalog_regions']:,}")
    click.echo(f"manifests: {data['manifests']:,} indexed of {data['catalog_manifests']:,}")
    if data["stale"]:
        click.echo("the index is behind the catalog: run `loupe catalog fulltext --rebuild`")
    else:
        click.echo("up to date")
