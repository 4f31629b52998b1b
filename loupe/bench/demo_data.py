"""The bundled demo collection published, harvested and indexed into a benchmark's own data
directory: what the API and viewer benchmarks measure against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connector.catalog import Catalog
from connector.harvest import Harvester
from connector.static_publish import publish_folder
from loupe.commands._jobs import run_here
from loupe_core.settings import Settings

DEMO_FOLDER = Path(__file__).resolve().parents[2] / "demo" / "collection"


@dataclass(frozen=True)
class IndexedDemo:
    base: str  # the published folder's URL: <base>/manifests/<slug>.json, <base>/canvas/<slug>
    manifests: list[str]


def indexed_demo(settings: Settings, port: int, model: str, *, activate: bool = False,
                 progress: bool = False) -> IndexedDemo:
    """Publish the demo for http://127.0.0.1:`port`, harvest it from its folder, index it with
    `model`. RuntimeError when nothing was harvested."""
    settings.ensure_dirs()
    published = publish_folder(DEMO_FOLDER, settings.published_dir, f"http://127.0.0.1:{port}/published/demo",
                               name="demo", metadata_csv=DEMO_FOLDER / "metadata.csv",
                               regions_file=DEMO_FOLDER / "regions.csv")
    catalog = Catalog.open(settings)
    try:
        source = catalog.add_source(published.collection_url, kind="static", allow_private=True,
                                    local_path=str(published.root.resolve()), name="demo")
        with Harvester(settings, catalog, progress=False) as harvester:
            harvester.harvest(source)
        manifests = [m.uri for m in catalog.iter_manifests(source.id)]
    finally:
        catalog.close()
    if not manifests:
        raise RuntimeError(f"nothing was harvested from {published.collection_url}")
    params = {"source": str(source.id), "model": model, **({"activate": True} if activate else {})}
    run_here(settings, "index", params, progress=progress, desc="indexing")
    return IndexedDemo(published.collection_url.rsplit("/", 1)[0], manifests)
