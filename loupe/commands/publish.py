"""``loupe publish FOLDER``: a folder of images becomes a static level-0 IIIF collection,
registered as a source so that the next ``loupe harvest`` takes it in."""

from __future__ import annotations

from pathlib import Path

import click

from connector.catalog import Catalog, CatalogError
from connector.static_inputs import slugify
from connector.static_publish import publish_folder
from loupe_core.settings import Settings


def default_base_url(settings: Settings, name: str) -> str:
    """Where Loupe's own server serves ``settings.published_dir / name``."""
    return f"http://{settings.host}:{settings.port}/published/{name}"


def loupe_address(settings: Settings) -> str:
    """This Loupe service as viewers reach it: ``public_url``, else http://HOST:PORT."""
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


@click.command("publish")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Name of the collection (a slug; default: the folder's name).")
@click.option("--base-url", default=None,
              help="URL the published folder is served at (default: http://HOST:PORT/published/NAME).")
@click.option("--metadata", "metadata_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="CSV with file or slug, title, artist, date, description, rights, attribution, ... "
                                 "(default: FOLDER/metadata.csv when present).")
@click.option("--regions", "regions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="CSV or JSON of annotated regions in original-image pixels "
                                 "(default: FOLDER/regions.csv or regions.json when present).")
@click.option("--max-side", type=click.IntRange(min=1), default=None,
              help="Resize images whose longest side is larger (default: keep their size).")
@click.option("--no-register", is_flag=True, help="Only write the files; do not add a catalog source.")
@click.option("--link-loupe", "link_loupe", is_flag=False, flag_value="", default=None, metavar="[URL]",
              help="Link each manifest to this Loupe service (default address: public_url, else "
                   "http://HOST:PORT): its canvases' machine annotations and its Content Search services, "
                   "so that any IIIF viewer, stock Mirador included, shows and searches them.")
@click.pass_obj
def publish(settings: Settings, folder: Path, name: str | None, base_url: str | None, metadata_csv: Path | None,
            regions_file: Path | None, max_side: int | None, no_register: bool, link_loupe: str | None) -> None:
    """Publish FOLDER (JPEG, PNG, TIFF, WebP) as a static IIIF collection and register it."""

    label = name or folder.resolve().name
    name = slugify(label, fallback="collection")
    base_url = (base_url or default_base_url(settings, name)).rstrip("/")
    settings.ensure_dirs()
    loupe = None if link_loupe is None else (link_loupe or loupe_address(settings)).rstrip("/")
    if loupe is not None and not loupe.startswith(("http://", "https://")):
        raise click.BadParameter(f"the Loupe service's address must be an http(s) URL, not {loupe!r}",
                                 param_hint="--link-loupe")
    result = publish_folder(folder, settings.published_dir, base_url, name=label, metadata_csv=metadata_csv,
                            regions_file=regions_file, max_side=max_side, progress=True, link_loupe=loupe)
    if loupe:
        click.echo(f"manifests link Loupe's annotations and search at {loupe}", err=True)

    click.echo(f"published {result.published}, skipped {result.unchanged} unchanged, "
               f"{result.failed} failed, {result.removed} removed; {result.regions} regions "
               f"-> {result.root}", err=True)
    for problem in result.problems:
        click.echo(f"  {problem.severity}: {problem.where}: {problem.what}", err=True)
    if not no_register:
        _register(settings, result.collection_url, result.root, name)
    click.echo(result.collection_url)
    if result.total == 0:
        raise click.ClickException(f"no image could be published from {folder}")


def _register(settings: Settings, collection_url: str, root: Path, name: str) -> None:
    """Add (or update) the catalog source of this collection; the harvester reads it from disk."""

    catalog = Catalog.open(settings)
    try:
        # An absolute path: the harvester may run from another working directory.
        catalog.add_source(collection_url, kind="static", allow_private=True, local_path=str(root.resolve()),
                           name=name)
    except CatalogError as e:
        raise click.ClickException(f"published, but not registered as a source: {e}") from None
    finally:
        catalog.close()
    click.echo(f"registered source {name!r}; run `loupe harvest` to take it in", err=True)
