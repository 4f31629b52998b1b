"""Publish a local folder of images as a static, level-0 IIIF collection.

``publish_folder`` writes, under ``out_dir/<name>/``, files whose URLs are the base URL plus
their relative path, so any static web server (or Loupe's own, under ``/published/<name>``)
serves a complete IIIF collection:
    collection.json                      Presentation 3 Collection of every manifest
    manifests/<slug>.json                one manifest per image (one canvas, regions embedded)
    images/<slug>/info.json              level-0 ImageService3
    images/<slug>/full/.../default.jpg   sizes and tiles at the paths clients request
    .loupe-publish.json                  what was published from what (for cheap re-runs)

Re-publishing is cheap: an image whose source file has the same size and modification time
(and the same ``max_side``) keeps its derivatives; the JSON documents are always rewritten
(atomically), so a new base URL or edited metadata takes effect at once. Images that left
the folder are removed from the tree. A corrupt image is reported and left out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from PIL import Image, ImageOps
from tqdm import tqdm

from connector.static_inputs import (
    METADATA_FILE_NAMES,
    REGIONS_FILE_NAMES,
    Region,
    assign_slugs,
    find_companion,
    find_images,
    lookup_keys,
    read_metadata,
    read_regions,
    slugify,
)
from connector.static_manifests import PublishedImage, Urls, collection, manifest
from connector.static_tiles import JPEG_QUALITY, TILE_SIZE, info_json, write_derivatives
from iiif.model import Problem

STATE_FILE = ".loupe-publish.json"
# Bump when the derivatives written for the same source would differ (tiling, quality, ...).
DERIVATIVES_VERSION = 1
# Images processed at once (each holds its decoded pixels in memory).
MAX_WORKERS = 4

#: progress(done, total, file name) is called after each image.
ProgressCallback = Callable[[int, int, str], None]
#: What ``publish_folder`` accepts as ``progress``: a callback, True for a progress bar on
#: stderr, or None/False for silence.
Progress = ProgressCallback | bool | None


@dataclass
class PublishResult:
    """What ``publish_folder`` did. ``published``: images whose derivatives were (re)made;
    ``unchanged``: images whose derivatives were kept; ``failed``: images left out."""

    name: str
    root: Path  # out_dir / name
    collection_url: str
    slugs: list[str] = field(default_factory=list)  # in the collection, in order
    published: int = 0
    unchanged: int = 0
    failed: int = 0
    removed: int = 0  # slugs of an earlier publication whose image is gone
    regions: int = 0  # region annotations written
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.published + self.unchanged

    @property
    def collection_path(self) -> Path:
        return self.root / "collection.json"


def publish_folder(folder: Path, out_dir: Path, base_url: str, *, name: str | None = None,
                   metadata_csv: Path | None = None, regions_file: Path | None = None,
                   max_side: int | None = None, progress: Progress = None,
                   link_loupe: str | None = None) -> PublishResult:
    """Publish the images of ``folder`` under ``out_dir/<name>`` as a level-0 IIIF collection
    whose URLs start with ``base_url``. ``metadata.csv`` and ``regions.csv``/``regions.json``
    inside the folder are used when no file is given. Images larger than ``max_side`` are
    resized (default: original size). ``name`` (default: the folder's name) labels the
    collection and, as a slug, names its folder. ``progress``: a callback
    ``(done, total, file_name)``, or True for a progress bar on stderr. ``link_loupe``: a Loupe
    service's address; each manifest then links its machine annotations and search services."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, not {max_side}")
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"the base URL must be an http(s) URL, not {base_url!r}")
    label = name or folder.resolve().name
    slug_name = slugify(label, fallback="collection")
    root = Path(out_dir) / slug_name
    urls = Urls(base_url)
    result = PublishResult(name=slug_name, root=root, collection_url=urls.collection)

    metadata, regions = _read_companions(folder, metadata_csv, regions_file, result.problems)
    files = find_images(folder, exclude=[Path(out_dir)])
    previous = _read_state(root)
    slugs = assign_slugs(files, folder, {e.get("source"): slug for slug, e in previous.items()})
    root.mkdir(parents=True, exist_ok=True)
    with _progress_bar(slug_name) if progress is True else nullcontext(progress or None) as report:
        entries = _publish_images(folder, files, slugs, root, previous, max_side, result, report)

    state: dict[str, dict] = {}
    images: list[PublishedImage] = []
    used_keys: set[str] = set()
    for path in files:
        slug, entry = slugs[path], entries.get(path)
        if entry is None:
            continue
        keys = lookup_keys(path, folder, slug)
        state[slug] = entry
        row_key = next((k for k in keys if k in metadata), None)
        mine = [r for r in regions if r.key in keys]
        used_keys.update([r.key for r in mine] + ([row_key] if row_key else []))
        images.append(PublishedImage(
            slug=slug, width=entry["published"][0], height=entry["published"][1],
            original_size=tuple(entry["original"]), default_label=path.name,
            metadata=metadata.get(row_key, {}) if row_key else {}, regions=mine))

    for region in regions:
        if region.key not in used_keys:
            result.problems.append(Problem(region.where, f"no published image {region.key!r}; region ignored",
                                           "warning"))
    for key in sorted(metadata.keys() - used_keys):
        result.problems.append(Problem(key, "metadata row matches no published image", "warning"))
    _write_documents(root, urls, label, images, result, link_loupe)
    result.removed = _remove_stale(root, set(previous) - set(state))
    _write_json(root / STATE_FILE, {"version": DERIVATIVES_VERSION, "images": state})
    result.slugs = [img.slug for img in images]
    return result


@contextmanager
def _progress_bar(name: str) -> Iterator[ProgressCallback]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal) as a progress callback."""

    with tqdm(unit="image", desc=f"publishing {name}", file=sys.stderr, disable=None, leave=False) as bar:
        def report(done: int, total: int, file_name: str) -> None:
            bar.total = total
            bar.set_postfix_str(file_name[-40:], refresh=False)
            bar.update(done - bar.n)

        yield report


def _read_companions(folder: Path, metadata_csv: Path | None, regions_file: Path | None,
                     problems: list[Problem]) -> tuple[dict[str, dict[str, str]], list[Region]]:
    """The metadata rows and regions given, or found beside the images."""
    metadata_csv = Path(metadata_csv) if metadata_csv else find_companion(folder, METADATA_FILE_NAMES)
    regions_file = Path(regions_file) if regions_file else find_companion(folder, REGIONS_FILE_NAMES)
    metadata: dict[str, dict[str, str]] = {}
    regions: list[Region] = []
    if metadata_csv is not None:
        metadata, found = read_metadata(metadata_csv)
        problems.extend(found)
    if regions_file is not None:
        regions, found = read_regions(regions_file)
        problems.extend(found)
    return metadata, regions


def _publish_images(folder: Path, files: list[Path], slugs: dict[Path, str], root: Path, previous: dict[str, dict],
                    max_side: int | None, result: PublishResult,
                    progress: ProgressCallback | None) -> dict[Path, dict]:
    """Derivatives of every image, a few at a time (Pillow decodes, resizes and encodes
    without holding the GIL); the state entry of each image that could be published."""
    entries: dict[Path, dict] = {}
    workers = max(1, min(MAX_WORKERS, os.cpu_count() or 1, len(files)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_publish_image, path, path.relative_to(folder).as_posix(), root / "images" / slugs[path],
                               previous.get(slugs[path]), max_side): path for path in files}
        for done, future in enumerate(as_completed(futures), start=1):
            path = futures[future]
            status, value = future.result()
            if status == "failed":
                result.failed += 1
                result.problems.append(Problem(path.name, value))
            else:
                entries[path] = value
                result.published += status == "published"
                result.unchanged += status == "unchanged"
            if progress is not None:
                progress(done, len(files), path.name)
    return entries


def _publish_image(path: Path, source: str, target: Path, before: dict | None,
                   max_side: int | None) -> tuple[str, Any]:
    """Make (or keep) the derivatives of one image: ("published" | "unchanged", state entry)
    or ("failed", why). ``source``: the file's path below the folder."""
    st = path.stat()
    fingerprint = {"source": source, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "max_side": max_side,
                   "derivatives": DERIVATIVES_VERSION, "tile": TILE_SIZE, "quality": JPEG_QUALITY}
    if before and all(before.get(k) == v for k, v in fingerprint.items()) \
            and (target / "full" / "max" / "0" / "default.jpg").is_file():
        return "unchanged", {**before, **fingerprint}
    try:
        image, original = load_image(path, max_side)
    except Exception as e:  # noqa: BLE001 - any decoder error means "corrupt": report, go on
        return "failed", f"not a readable image ({type(e).__name__}: {e}); skipped"
    write_derivatives(image, target)
    return "published", {**fingerprint, "original": list(original), "published": list(image.size)}


def load_image(path: Path, max_side: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """The image upright (EXIF orientation applied), in RGB or L, no larger than
    ``max_side``; and its upright size before resizing (the frame of region coordinates)."""
    with Image.open(path) as opened:
        opened.load()
        image = ImageOps.exif_transpose(opened)
    original = image.size
    image = _jpeg_ready(image)
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image, original


def _jpeg_ready(image: Image.Image) -> Image.Image:
    """RGB or L: 16/32-bit greyscale scaled to 8 bits, transparency flattened on white."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode.startswith("I;16") or image.mode == "I":
        top = 65535 if image.mode.startswith("I;16") else max(image.getextrema()[1], 1)
        return image.convert("I").point(lambda v: v * (255 / top)).convert("L")
    if image.mode == "F":
        return image.convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("L" if image.mode == "1" else "RGB")


def _write_documents(root: Path, urls: Urls, label: str, images: list[PublishedImage], result: PublishResult,
                     link_loupe: str | None = None) -> None:
    for img in images:
        _write_json(root / "images" / img.slug / "info.json", info_json(urls.service(img.slug), img.width, img.height))
        doc = manifest(urls, img, link_loupe)
        written = sum(len(page.get("items", [])) for page in doc["items"][0].get("annotations", []))
        result.regions += written
        if dropped := len(img.regions) - written:
            result.problems.append(Problem(img.slug, f"{dropped} region(s) outside the image; ignored", "warning"))
        _write_json(root / "manifests" / f"{img.slug}.json", doc)
    _write_json(root / "collection.json", collection(urls, label, images))


def _remove_stale(root: Path, slugs: set[str]) -> int:
    for slug in slugs:
        shutil.rmtree(root / "images" / slug, ignore_errors=True)
        (root / "manifests" / f"{slug}.json").unlink(missing_ok=True)
    return len(slugs)


def _read_state(root: Path) -> dict[str, dict]:
    try:
        data = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    images = data.get("images") if isinstance(data, dict) else None
    return images if isinstance(images, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a temporary file in the same folder renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a web server must be able to read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
