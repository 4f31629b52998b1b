"""``loupe harvest``: take the sources' manifests and annotations into the catalog."""

from __future__ import annotations

import json

import click

from connector.catalog import Catalog, CatalogError
from connector.harvest import Harvester
from loupe_core.settings import Settings


@click.command("harvest")
@click.argument("source", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (one object per source).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--images/--no-images", default=True, show_default=True,
              help="Also fetch new images at the bounded size (image_max_side) into the image cache.")
@click.option("--problems", "show_problems", type=int, default=20, show_default=True,
              help="How many problems to print per source.")
@click.pass_obj
def harvest(settings: Settings, source: str | None, as_json: bool, no_progress: bool, images: bool,
            show_problems: int) -> None:
    """Harvest SOURCE (id, name or URL), or every source when omitted (harvest_parallel_sources
    of them at a time, each polite per host).

    Unchanged manifests cost one conditional request; deleted ones are marked deleted; a
    harvest that was interrupted resumes where it stopped. Exits with 1 when a source
    could not be harvested at all."""

    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    try:
        sources = [catalog.get_source(source)] if source else catalog.list_sources()
    except CatalogError as e:
        raise click.ClickException(str(e)) from None
    if not sources:
        raise click.ClickException("no sources: add one with `loupe source add URL` or `loupe publish FOLDER`")
    failed = False
    with Harvester(settings, catalog, progress=not (no_progress or as_json)) as harvester:
        for src, report in harvester.harvest_many(sources, fetch_images=images):
            if isinstance(report, CatalogError):
                click.echo(f"{src.url}: {report}", err=True)
                failed = True
                continue
            if isinstance(report, Exception):
                raise report
            if as_json:
                click.echo(json.dumps(report.as_dict()))
                continue
            c = report.counts
            click.echo(
                f"{src.name or src.url}: {c.get('listed', 0)} listed, {c.get('new', 0)} new, "
                f"{c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged, {c.get('deleted', 0)} deleted, "
                f"{c.get('failed', 0)} failed; images {c.get('images_fetched', 0)} fetched, "
                f"{c.get('images_failed', 0)} failed; {len(report.problems)} problems in {report.seconds:.1f} s")
            for p in report.problems[:show_problems]:
                click.echo(f"  {p.severity}: {p.where}: {p.what}")
            if len(report.problems) > show_problems:
                click.echo(f"  ... and {len(report.problems) - show_problems} more "
                           f"(`loupe catalog problems` lists them all)")
            if report.counts.get("listed", 0) == 0 and any(p.severity == "error" for p in report.problems):
                failed = True
    if failed:
        raise SystemExit(1)
