"""The bundled demo collection, published and harvested into a data directory, without HTTP.

``harvest_demo(settings)`` does what `loupe publish demo/collection` and `loupe harvest` do:
the folder becomes a static IIIF collection under ``settings.published_dir``, registered as
a static source (read from disk, no server needed), and is harvested with its images fetched
at ``settings.image_max_side`` into the image cache. Used once per test session (slow: it
resizes 30 images); tests get a copy of the result (``copy_data_dir``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from loupe_core.settings import Settings

DEMO_FOLDER = Path(__file__).resolve().parents[2] / "demo" / "collection"
DEMO_NAME = "demo"
DEMO_IMAGES = 30
DEMO_REGIONS = 16


@dataclass(frozen=True)
class HarvestedDemo:
    settings: Settings  # pointing at the pristine data directory: copy it before changing anything
    collection_url: str
    source_id: int


def harvest_demo(settings: Settings) -> HarvestedDemo:
    from connector.catalog import Catalog
    from connector.harvest import Harvester
    from connector.static_publish import publish_folder

    settings.ensure_dirs()
    base_url = f"http://{settings.host}:{settings.port}/published/{DEMO_NAME}"
    published = publish_folder(DEMO_FOLDER, settings.published_dir, base_url, name=DEMO_NAME,
                               metadata_csv=DEMO_FOLDER / "metadata.csv", regions_file=DEMO_FOLDER / "regions.csv")
    assert published.total == DEMO_IMAGES, published.problems
    catalog = Catalog.open(settings)
    try:
        source = catalog.add_source(published.collection_url, "static", allow_private=True,
                                    local_path=str(published.root.resolve()), name=DEMO_NAME)
        with Harvester(settings, catalog) as harvester:
            report = harvester.harvest(source)
        assert report.status == "completed", report.problems
        assert report.counts["images_fetched"] == DEMO_IMAGES, report.counts
    finally:
        catalog.close()
    return HarvestedDemo(settings, published.collection_url, source.id)


def copy_data_dir(demo: HarvestedDemo, target: Path) -> Settings:
    """Settings like the demo's, on a private copy of its data directory (catalog, image
    cache, published files); the static source still reads the pristine published folder."""
    shutil.copytree(demo.settings.data_dir, target)
    return demo.settings.replace(data_dir=target)
