"""``loupe demo``: the bundled collection, published, served and harvested over HTTP,
indexed, then served with search, the search page and the API."""

from __future__ import annotations

import json
from pathlib import Path

import click

from connector.catalog import Catalog
from connector.harvest import Harvester
from connector.static_publish import publish_folder
from loupe.commands._jobs import run_here
from loupe.commands.serve import serve as serve_cmd
from loupe.static_server import StaticServer
from loupe_core.settings import Settings
from loupe_models import ModelWeightsMissing

DEMO_FOLDER = Path(__file__).resolve().parents[2] / "demo" / "collection"
DEMO_NAME = "demo"
# The image model whose weights come with the package index: image, region and "similar"
# search work offline with it, whatever happens to the CLIP weights.
IMAGE_MODEL = "efficientnet-lite0"


@click.command("demo")
@click.option("--folder", type=click.Path(exists=True, file_okay=False, path_type=Path), default=DEMO_FOLDER,
              show_default=True, help="Folder of images (with metadata.csv and regions.csv) to publish.")
@click.option("--port", type=int, default=None, help="Port to serve on (default: the port setting, 8600).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Then serve search, the search page, the API and the collection (Ctrl-C stops).")
@click.option("--image-model/--no-image-model", default=True, show_default=True,
              help=f"Also index with {IMAGE_MODEL} (installed weights, no download): image and region search "
                   "work even without CLIP weights.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def demo(ctx: click.Context, folder: Path, port: int | None, serve: bool, image_model: bool, as_json: bool) -> None:
    """Publish the bundled collection as static IIIF, serve it on 127.0.0.1, add it as an
    allowed source, harvest it over HTTP through the same connector as any remote
    collection, index it with the model (LOUPE_MODEL; MODEL=loupe-tiny with make), print what
    was done, then serve search, the search page (/), the API docs (/docs) and the
    collection until Ctrl-C.

    Without the model's weights the demo says where to put them and still serves the
    harvested collection, IIIF Content Search, and image and region search with the image
    model {IMAGE_MODEL} (its weights come with the package)."""
    settings: Settings = ctx.obj

    settings.ensure_dirs()
    port = settings.port if port is None else port
    try:
        server = StaticServer(settings.published_dir, host="127.0.0.1", port=port, prefix="/published")
    except OSError as e:
        raise click.ClickException(f"cannot serve on 127.0.0.1:{port} ({e.strerror}); "
                                   "choose another port with --port or LOUPE_PORT") from None
    base_url = f"{server.url}/{DEMO_NAME}"
    click.echo(f"1/4 publishing {folder} as static IIIF under {settings.published_dir / DEMO_NAME}", err=True)
    published = publish_folder(
        folder, settings.published_dir, base_url, name=DEMO_NAME,
        metadata_csv=_optional(folder / "metadata.csv"), regions_file=_optional(folder / "regions.csv"),
        progress=not as_json)
    collection_url = f"{base_url}/collection.json"
    with server:
        click.echo(f"2/4 serving {collection_url}", err=True)
        catalog = Catalog.open(settings)
        # Our own server on loopback: allowed explicitly, and no need to be slow with it.
        source = catalog.add_source(collection_url, "collection", allow_private=True, polite=False,
                                    name="demo-http")
        click.echo(f"3/4 harvesting {collection_url} over HTTP", err=True)
        with Harvester(settings, catalog, progress=not as_json) as harvester:
            report = harvester.harvest(source)
        stats = catalog.stats()
        catalog.close()
        # Still serving: images missing from the cache are fetched from the collection.
        click.echo(f"4/4 indexing with {settings.model}", err=True)
        indexed = _index(settings, source.id, None, progress=not as_json)
        image_indexed = None
        if image_model and settings.model != IMAGE_MODEL:
            click.echo(f"   and with {IMAGE_MODEL} (image and region search without CLIP weights)", err=True)
            image_indexed = _index(settings, source.id, IMAGE_MODEL, progress=not as_json)
    summary = {"published": _published_summary(published), "harvest": report.as_dict(), "catalog": stats,
               "index": indexed, "image_index": image_indexed, "collection_url": collection_url}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        c = report.counts
        click.echo(f"published {summary['published']}")
        click.echo(f"harvested {c.get('listed', 0)} manifests over HTTP: {c.get('new', 0)} new, "
                   f"{c.get('updated', 0)} updated, {c.get('unchanged', 0)} unchanged, "
                   f"{c.get('failed', 0)} failed, {len(report.problems)} problems ({report.seconds:.1f} s)")
        click.echo(f"catalog: {stats['manifests']} manifests, {stats['canvases']} canvases, "
                   f"{stats['images']} images, {stats['regions']} annotated regions ({settings.catalog})")
        if image_indexed and not image_indexed.get("error"):
            click.echo(f"image index ({IMAGE_MODEL}): {image_indexed['message']}")
        if indexed.get("weights_missing"):
            click.echo(f"not indexed with {settings.model}: {indexed['error']}")
            offline = (f"Search by image, by region and 'similar' work now with {IMAGE_MODEL}; search by text and "
                       "composed search need the CLIP weights" if image_indexed and not image_indexed.get("error")
                       else "Search needs the model's weights")
            click.echo(f"{offline}: put them where the message says, or try the demo with the tiny test model: "
                       "make demo MODEL=loupe-tiny (random weights: the plumbing works, the rankings mean nothing).")
        elif indexed.get("error"):
            click.echo(f"indexing failed: {indexed['error']}")
        else:
            click.echo(f"index: {indexed['message']}")
        click.echo(f"collection: {collection_url}")
    if serve:
        click.echo(f"search page: http://127.0.0.1:{port}/  viewer (Mirador + Loupe): http://127.0.0.1:{port}/viewer  "
                   f"API docs: http://127.0.0.1:{port}/docs", err=True)
        ctx.invoke(serve_cmd, host="127.0.0.1", port=port, no_jobs=False)


def _index(settings: Settings, source_id: int, model: str | None, progress: bool) -> dict:
    """Index the demo source with ``model`` (None: the model setting) in this process; a model
    without weights is reported, not fatal. The first model indexed is the active one."""
    try:
        record = run_here(settings, "index", {"source": str(source_id), "model": model}, progress=progress,
                          desc=f"indexing ({model or settings.model})", weights_fatal=False)
    except ModelWeightsMissing as e:  # the message says where to put them
        return {"error": str(e), "weights_missing": True}
    except click.ClickException as e:  # another expected error: said, with the job to look at
        return {"error": e.message}
    return record.as_dict()


def _optional(path: Path) -> Path | None:
    return path if path.is_file() else None


def _published_summary(result) -> dict:  # noqa: ANN001 - PublishResult
    keys = ("published", "skipped", "unchanged", "regions", "problems")
    out = {}
    for k in keys:
        v = getattr(result, k, None)
        if v is not None:
            out[k] = len(v) if isinstance(v, list) and k == "problems" else v
    return out
