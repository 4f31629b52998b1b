"""``loupe search``: the search API's engine from the command line.

    loupe search "a ship in a storm" --json
    loupe search --image detail.jpg --kind region --json
    loupe search "at night" --image view.jpg --text-weight 0.6      # composed search

It opens the index itself, so it cannot run beside `loupe serve` in the embedded default
(one process owns Qdrant local mode): query the server's /api/search then.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from loupe_core.settings import Settings
from loupe_index import FilterError, SearchFilters, VectorIndexError
from loupe_models import ModelError, ModelWeightsMissing
from search_service.params import SearchQuery
from search_service.request_errors import RequestProblem
from search_service.results import results_json
from search_service.services import Services
from search_service.uploads import decode_image

# Exit status when the model's weights are missing (as `loupe index`).
EXIT_WEIGHTS_MISSING = 2


@click.command("search")
@click.argument("text", required=False)
@click.option("--image", "image_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Search by this image (JPEG, PNG, WEBP); with TEXT too: a composed search.")
@click.option("--text-weight", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
              help="Composed search: weight of TEXT against the image (zero-shot baseline).")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--cursor", default=None, help="The next_cursor of a previous page of the same search.")
@click.option("--one-per-canvas", is_flag=True, help="At most one result per canvas.")
@click.option("--source", multiple=True, help="Only this source (id or name); repeatable.")
@click.option("--collection", multiple=True, help="Only this IIIF Collection (URI); repeatable.")
@click.option("--manifest", multiple=True, help="Only this manifest (URI); repeatable.")
@click.option("--kind", multiple=True, type=click.Choice(["image", "region", "view"]), help="Repeatable.")
@click.option("--rights", multiple=True, help="Only this rights URI; repeatable.")
@click.option("--year-from", type=int, default=None)
@click.option("--year-to", type=int, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the results as a JSON list of result objects.")
@click.pass_obj
def search(settings: Settings, text: str | None, image_path: Path | None, text_weight: float, limit: int,
           cursor: str | None, one_per_canvas: bool, source: tuple[str, ...], collection: tuple[str, ...],
           manifest: tuple[str, ...], kind: tuple[str, ...], rights: tuple[str, ...], year_from: int | None,
           year_to: int | None, as_json: bool) -> None:
    """Search the index by TEXT, by an image (--image), or by both (composed)."""

    if not text and image_path is None:
        raise click.UsageError("give a TEXT to search for, an --image, or both")
    try:
        filters = SearchFilters(source=source, collection=collection, manifest=manifest, kind=kind, rights=rights,
                                year_from=year_from, year_to=year_to)
    except FilterError as e:
        raise click.UsageError(str(e)) from None
    query = SearchQuery(filters=filters, limit=limit, cursor=cursor, one_per_canvas=one_per_canvas)
    settings.ensure_dirs()
    services = Services(settings, index_role="loupe search")
    try:
        image = decode_image(image_path.read_bytes(), settings).image if image_path is not None else None
        engine = services.engine
        if image is not None and text:
            outcome = engine.composed(text, query, image=image, text_weight=text_weight)
        elif image is not None:
            outcome = engine.image(image, query)
        else:
            outcome = engine.text(text or "", query)
        results = results_json(outcome.hits, services.catalog, settings)
    except ModelWeightsMissing as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(EXIT_WEIGHTS_MISSING)
    except ModelError as e:  # text asked of an image-only model, among others: the message says what to do
        raise click.ClickException(str(e)) from None
    except RequestProblem as e:
        raise click.ClickException(e.message) from None
    except VectorIndexError as e:
        hint = (f"\nWhile `loupe serve` runs, ask it instead: "
                f"curl 'http://{settings.host}:{settings.port}/api/search?q=...'") if "another" in str(e) else ""
        raise click.ClickException(f"{e}{hint}") from None
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    if not results:
        click.echo("no results")
    for r in results:
        where = ",".join(str(v) for v in r["xywh"]) if r.get("xywh") else ""
        click.echo(f"{r['score']:.4f}  {r['kind']:<6}  {r['label'][:60]:<60}  {r['canvas']['id']} {where}")
    if outcome.next_cursor:
        click.echo(f"more: --cursor {outcome.next_cursor}", err=True)
    if "text" in outcome.rankers:
        click.echo(f"ranked by: {' and '.join(outcome.rankers)} (the catalog's words fused with the vectors: "
                   "see /api/search in the README)" if len(outcome.rankers) > 1 else
                   "ranked by the catalog's words alone (no CLIP model to ask)", err=True)
