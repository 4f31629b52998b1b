"""Publishing a folder of images as a static level-0 IIIF collection, and the demo folder."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import time
from pathlib import Path

import pytest
from PIL import Image

from connector.static_inputs import assign_slugs, read_regions, slugify
from connector.static_publish import publish_folder
from connector.static_tiles import all_requests, info_json, level0_sizes, tile_scale_factors
from tests.support.deps import need

BASE = "http://example.org/iiif/sample"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO = PROJECT_ROOT / "demo" / "collection"
SCHEMA = "iiif/IIIF-presentation-validator/schema/iiif_3_0.json"


# --- fixtures ------------------------------------------------------------------------------
def gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture with structure (so that JPEG sizes and crops are realistic)."""
    image = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return image
    across = image.transpose(Image.Transpose.ROTATE_90).resize(size)
    return Image.merge("RGB", (image, across, Image.new("L", size, 90)))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """Five readable images (JPEG, PNG with EXIF rotation, 16-bit TIFF, WebP, RGBA PNG), two
    broken ones, a text file, metadata.csv and regions.csv."""
    folder = tmp_path / "Sample Folder"
    folder.mkdir()
    gradient((1300, 700)).save(folder / "Large Landscape.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display: stored 300x200, shown 200x300
    gradient((300, 200)).save(folder / "portrait.png", exif=exif)
    gradient((640, 480), "L").convert("I;16").save(folder / "scan.tif")
    gradient((120, 90)).save(folder / "Café Détail.webp")
    Image.new("RGBA", (80, 60), (0, 0, 255, 100)).save(folder / "logo.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG at all")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    write_csv(folder / "metadata.csv", [
        {"file": "Large Landscape.jpg", "title": "A large landscape", "artist": "A. Painter", "date": "1889",
         "description": "Hills at dusk.", "rights": "https://creativecommons.org/publicdomain/zero/1.0/",
         "attribution": "Museo Esempio", "medium": "oil on canvas", "language": "en"},
        {"file": "portrait.png", "title": "Ritratto", "artist": "", "date": "c. 1500", "description": "",
         "rights": "All rights reserved", "attribution": "", "medium": "", "language": "it"},
        {"file": "scan", "title": "Scanned page", "artist": "", "date": "", "description": "",  # by slug
         "rights": "https://example.org/our-licence", "attribution": "Archive", "medium": "", "language": ""},
    ])
    write_csv(folder / "regions.csv", [
        {"file": "Large Landscape.jpg", "x": "130", "y": "70", "w": "260", "h": "140", "bbox_xyxy": "",
         "label": "A tree", "language": "en", "tag": "tree;landscape"},
        {"file": "large-landscape", "x": "", "y": "", "w": "", "h": "", "bbox_xyxy": "1200,600,1400,800",
         "label": "Corner, partly outside", "language": "en", "tag": ""},
        {"file": "portrait.png", "x": "", "y": "", "w": "", "h": "", "bbox_xyxy": "10,20,110,220",
         "label": "", "language": "", "tag": "face"},
        {"file": "missing.jpg", "x": "1", "y": "1", "w": "5", "h": "5", "bbox_xyxy": "",
         "label": "nowhere", "language": "", "tag": ""},
    ])
    return folder


@pytest.fixture
def published(sample: Path, tmp_path: Path):
    return publish_folder(sample, tmp_path / "out", BASE + "/", name="sample", max_side=650)


@pytest.fixture(scope="session")
def validator(shared_data: Path):
    jsonschema = need("jsonschema")
    schema = json.loads((shared_data / SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def load(result, relative: str) -> dict:
    return json.loads((result.root / relative).read_text(encoding="utf-8"))


def manifests(result) -> dict[str, dict]:
    return {slug: load(result, f"manifests/{slug}.json") for slug in result.slugs}


def local_path(result, url: str) -> Path:
    assert url.startswith(BASE + "/"), url
    return result.root / url[len(BASE) + 1:]


def assert_image(path: Path, size: tuple[int, int]) -> None:
    assert path.is_file(), f"missing {path}"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == size, f"{path}: {image.size} != {size}"


# --- the level-0 geometry ------------------------------------------------------------------
def spec_tiles(info: dict) -> list[tuple[str, tuple[int, int]]]:
    """Tile URLs per the Image API 3.0 implementation notes (integer arithmetic)."""
    width, height = info["width"], info["height"]
    out = []
    for t in info["tiles"]:
        tw, th = t["width"], t.get("height", t["width"])
        for s in t["scaleFactors"]:
            for m in range(math.ceil(height / (th * s))):
                for n in range(math.ceil(width / (tw * s))):
                    xr, yr = n * tw * s, m * th * s
                    wr, hr = min(tw * s, width - xr), min(th * s, height - yr)
                    ws = tw if xr + tw * s <= width else (width - xr + s - 1) // s
                    hs = th if yr + th * s <= height else (height - yr + s - 1) // s
                    out.append((f"{xr},{yr},{wr},{hr}/{ws},{hs}/0/default.jpg", (ws, hs)))
    return out


def openseadragon_tiles(info: dict) -> list[tuple[str, tuple[int, int]]]:
    """The requests OpenSeadragon's IIIFTileSource.getTileUrl makes for a v3 level-0 service
    (ported from openseadragon/src/iiiftilesource.js, levelSizes included)."""
    width, height = info["width"], info["height"]
    tile = info["tiles"][0]
    tw, th = tile["width"], tile.get("height", tile["width"])
    factors = tile["scaleFactors"]
    max_level = round(math.log2(max(factors)))
    sizes = sorted(({"width": s["width"], "height": s["height"]} for s in info.get("sizes", [])),
                   key=lambda s: s["width"])
    level_sizes = None
    if sizes:
        if sizes[-1]["width"] < width and sizes[-1]["height"] < height:
            sizes.append({"width": width, "height": height})
        if len(sizes) == max_level + 1:
            ok = len(factors) != len(sizes) or all(
                round(width / sizes[i]["width"]) == factors[len(sizes) - i - 1]
                and round(height / sizes[i]["height"]) == factors[len(sizes) - i - 1] for i in range(len(sizes)))
            level_sizes = sizes if ok else None
    out = []
    for level in range(max_level + 1):
        scale = 0.5 ** (max_level - level)
        if level_sizes:
            lw, lh = level_sizes[level]["width"], level_sizes[level]["height"]
            nx, ny = math.ceil(lw / tw), math.ceil(lh / th)
        else:
            lw, lh = math.ceil(width * scale), math.ceil(height * scale)
            nx, ny = math.ceil(scale * width / tw), math.ceil(scale * height / th)
        if lw < tw and lh < th:
            size = "max" if (lw, lh) == (width, height) else f"{lw},{lh}"
            out.append((f"full/{size}/0/default.jpg", (lw, lh)))
            continue
        step_w, step_h = round(tw / scale), round(th / scale)
        for y in range(ny):
            for x in range(nx):
                rx, ry = x * step_w, y * step_h
                rw, rh = min(step_w, width - rx), min(step_h, height - ry)
                region = "full" if (x, y, rw, rh) == (0, 0, width, height) else f"{rx},{ry},{rw},{rh}"
                sw, sh = min(tw, lw - x * tw), min(th, lh - y * th)
                size = "max" if (sw, sh) == (width, height) else f"{sw},{sh}"
                out.append((f"{region}/{size}/0/default.jpg", (sw, sh)))
    return out


@pytest.mark.parametrize("size", [(1300, 700), (512, 400), (1024, 1000), (2000, 3001), (80, 60), (1, 1),
                                  (513, 1025), (1537, 1031), (4099, 2050)])
def test_level0_requests_are_what_clients_ask_for(size: tuple[int, int]) -> None:
    """Without images: the planned files are the spec's tiles, the listed sizes, full/max,
    and include every request OpenSeadragon makes; tiles cover the image at every scale."""
    width, height = size
    requests = {r.path: r for r in all_requests(width, height)}
    info = info_json("http://x/i", width, height)
    for rel, tile_size in spec_tiles(info) + openseadragon_tiles(info):
        assert rel in requests and requests[rel].size == tile_size, rel
    tiles = {p for p in requests if not p.startswith("full/")}
    assert tiles == {rel for rel, _ in spec_tiles(info)}
    assert "full/max/0/default.jpg" in requests
    for w, h in level0_sizes(width, height):
        assert requests[f"full/{w},{h}/0/default.jpg"].size == (w, h)
    assert level0_sizes(width, height)[-1] == (width, height)
    for s in tile_scale_factors(width, height):
        regions = [tuple(map(int, p.split("/")[0].split(","))) for p in tiles
                   if requests[p].scale_factor == s]
        assert sum(w * h for _, _, w, h in regions) == width * height


def check_every_advertised_url(result) -> None:
    """info.json's sizes, tiles (spec algorithm) and OpenSeadragon's requests are all files
    of the right pixel size, as are the painted image and the thumbnail."""
    assert result.slugs
    for slug, doc in manifests(result).items():
        body = doc["items"][0]["items"][0]["items"][0]["body"]
        service = body["service"][0]
        assert service["id"] == f"{BASE}/images/{slug}" and service["profile"] == "level0"
        info = json.loads(local_path(result, service["id"] + "/info.json").read_text())
        assert info["id"] == service["id"] and info["type"] == "ImageService3"
        assert info["protocol"] == "http://iiif.io/api/image"
        assert (info["width"], info["height"]) == (body["width"], body["height"]) == \
            (doc["items"][0]["width"], doc["items"][0]["height"])
        full = (info["width"], info["height"])
        assert_image(local_path(result, body["id"]), full)
        assert_image(local_path(result, service["id"] + "/full/max/0/default.jpg"), full)
        for s in info["sizes"]:
            assert_image(local_path(result, f"{service['id']}/full/{s['width']},{s['height']}/0/default.jpg"),
                         (s["width"], s["height"]))
        assert min(max(s["width"], s["height"]) for s in info["sizes"]) >= min(100, max(full))
        assert info["tiles"][0]["width"] == 512 and info["tiles"][0]["scaleFactors"][0] == 1
        for rel, size in spec_tiles(info) + openseadragon_tiles(info):
            assert_image(local_path(result, f"{service['id']}/{rel}"), size)
        thumb = doc["thumbnail"][0]
        assert_image(local_path(result, thumb["id"]), (thumb["width"], thumb["height"]))


def test_files_exist_at_every_advertised_url(published) -> None:
    check_every_advertised_url(published)


def test_openseadragon_port_matches_spec_for_a_tiled_image() -> None:
    info = {"width": 1300, "height": 700, "sizes": [{"width": w, "height": h} for w, h in level0_sizes(1300, 700)],
            "tiles": [{"width": 512, "height": 512, "scaleFactors": tile_scale_factors(1300, 700)}]}
    osd = dict(openseadragon_tiles(info))
    assert "0,0,512,512/512,512/0/default.jpg" in osd and "1024,512,276,188/276,188/0/default.jpg" in osd
    assert "full/325,175/0/default.jpg" in osd  # the level that fits in one tile


def test_manifests_and_collection_validate(published, validator) -> None:
    docs = list(manifests(published).values()) + [load(published, "collection.json")]
    for doc in docs:
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
        assert not errors, (doc["id"], errors)
    broken = dict(docs[0], rights="https://opensource.org/licenses/MIT")
    assert list(validator.iter_errors(broken)), "the schema must reject a rights value that is not CC/RS"


def test_manifests_can_link_a_loupe_service_and_still_validate(sample: Path, tmp_path: Path, validator) -> None:
    from connector.catalog.keys import uri_key
    from connector.loupe_links import is_loupe_annotation_page

    loupe = "https://loupe.museum.example"
    result = publish_folder(sample, tmp_path / "out", BASE, name="sample", max_side=650, link_loupe=loupe + "/")
    for slug, doc in manifests(result).items():
        canvas = doc["items"][0]
        linked = canvas["annotations"][-1]
        assert linked == {"id": f"{loupe}/iiif/annotations/{uri_key(canvas['id'])}.json", "type": "AnnotationPage"}
        assert is_loupe_annotation_page(linked["id"])
        assert all(not is_loupe_annotation_page(page["id"]) for page in canvas["annotations"][:-1])
        key = uri_key(doc["id"])
        v2, v1 = doc["service"]
        assert (v2["type"], v2["id"]) == ("SearchService2", f"{loupe}/iiif/search/2/manifest/{key}")
        assert (v1["@type"], v1["@id"]) == ("SearchService1", f"{loupe}/iiif/search/1/manifest/{key}")
        assert v1["profile"] == "http://iiif.io/api/search/1/search"  # what Mirador looks for
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
        assert not errors, (slug, errors)
    plain = publish_folder(sample, tmp_path / "plain", BASE, name="sample", max_side=650)
    assert all("service" not in doc for doc in manifests(plain).values())  # only when asked
    assert result.regions == plain.regions > 0  # the folder's own regions are counted as before


def test_collection_lists_every_manifest(published) -> None:
    coll = load(published, "collection.json")
    assert coll["id"] == published.collection_url == f"{BASE}/collection.json"
    assert [m["id"] for m in coll["items"]] == [f"{BASE}/manifests/{s}.json" for s in published.slugs]
    assert all(m["type"] == "Manifest" and m["label"] and m["thumbnail"] for m in coll["items"])
    assert sorted(published.slugs) == ["cafe-detail", "large-landscape", "logo", "portrait", "scan"]


def test_images_resized_rotated_and_converted(published) -> None:
    docs = manifests(published)
    size = {slug: (d["items"][0]["width"], d["items"][0]["height"]) for slug, d in docs.items()}
    assert size["large-landscape"] == (650, 350)  # max_side 650
    assert size["portrait"] == (200, 300)  # EXIF orientation applied
    assert size["scan"] == (640, 480)  # 16-bit TIFF, smaller than max_side
    assert size["cafe-detail"] == (120, 90)  # WebP
    with Image.open(published.root / "images/logo/full/max/0/default.jpg") as logo:  # RGBA flattened
        assert logo.mode == "RGB"


def test_metadata_mapped(published) -> None:
    docs = manifests(published)
    big = docs["large-landscape"]
    assert big["label"] == {"en": ["A large landscape"]}
    assert big["summary"] == {"en": ["Hills at dusk."]}
    assert big["rights"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert big["requiredStatement"]["value"] == {"en": ["Museo Esempio"]}
    entries = {e["label"]["en"][0]: e["value"] for e in big["metadata"]}
    assert entries == {"Artist": {"en": ["A. Painter"]}, "Date": {"en": ["1889"]}, "Medium": {"en": ["oil on canvas"]}}
    assert big["navDate"] == "1889-01-01T00:00:00Z"
    portrait = docs["portrait"]
    assert "rights" not in portrait  # free text is not a rights URI
    assert portrait["requiredStatement"]["value"] == {"it": ["Licence: All rights reserved"]}
    scan = docs["scan"]  # keyed by slug; a URL that is not CC/RS goes to requiredStatement
    assert scan["label"] == {"none": ["Scanned page"]} and "rights" not in scan
    assert "https://example.org/our-licence" in scan["requiredStatement"]["value"]["none"][0]
    assert docs["cafe-detail"]["label"] == {"none": ["Café Détail.webp"]}  # no row: the file name


def test_regions_scaled_to_the_canvas(published) -> None:
    docs = manifests(published)
    canvas = docs["large-landscape"]["items"][0]
    page = canvas["annotations"][0]
    assert page["type"] == "AnnotationPage"
    tree, corner = page["items"]
    assert tree["target"] == f"{canvas['id']}#xywh=65,35,130,70"  # 1300 -> 650: halved
    assert tree["motivation"] == ["commenting", "tagging"]
    assert tree["body"][0] == {"type": "TextualBody", "value": "A tree", "format": "text/plain",
                               "language": "en", "purpose": "commenting"}
    assert [b["value"] for b in tree["body"][1:]] == ["tree", "landscape"]
    assert tree["creator"]["type"] == "Person" and "generator" not in tree
    assert corner["target"] == f"{canvas['id']}#xywh=600,300,50,50"  # clipped to the canvas
    assert corner["motivation"] == "commenting"
    face = docs["portrait"]["items"][0]["annotations"][0]["items"][0]
    assert face["motivation"] == "tagging" and face["body"]["value"] == "face"
    assert face["target"].endswith("#xywh=10,20,100,200")  # upright pixels, not resized
    assert published.regions == 3
    assert any("missing.jpg" in p.what for p in published.problems)


def test_corrupt_images_reported_and_the_rest_published(published) -> None:
    assert published.failed == 2 and published.published == 5
    bad = {p.where for p in published.problems if p.severity == "error"}
    assert bad == {"broken.jpg", "empty.png"}
    assert not (published.root / "images" / "broken").exists()


def test_republish_is_cheap_and_stable(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = publish_folder(sample, out, BASE, name="sample", max_side=650)
    tile = first.root / "images/large-landscape/full/max/0/default.jpg"
    before = tile.stat().st_mtime_ns
    start = time.perf_counter()
    again = publish_folder(sample, out, BASE, name="sample", max_side=650)
    assert time.perf_counter() - start < 1.0
    assert (again.published, again.unchanged, again.failed) == (0, 5, 2)
    assert again.slugs == first.slugs and tile.stat().st_mtime_ns == before
    assert manifests(again) == manifests(first)

    gradient((900, 500)).save(sample / "Large Landscape.jpg")  # changed: remade
    (sample / "logo.png").unlink()  # gone: removed from the tree
    third = publish_folder(sample, out, "http://elsewhere.example/x", name="sample", max_side=650)
    assert (third.published, third.unchanged, third.removed) == (1, 3, 1)
    assert not (third.root / "manifests/logo.json").exists() and not (third.root / "images/logo").exists()
    info = json.loads((third.root / "images/scan/info.json").read_text())
    assert info["id"] == "http://elsewhere.example/x/images/scan"
    assert "logo" not in json.dumps(load(third, "collection.json"))


def test_progress_callback_and_bar(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    calls: list[tuple[int, int, str]] = []
    result = publish_folder(sample, tmp_path / "out", BASE, max_side=300, progress=lambda *a: calls.append(a))
    assert sorted(c[0] for c in calls) == list(range(1, 8)) and {c[1] for c in calls} == {7}
    assert {c[2] for c in calls} >= {"broken.jpg", "portrait.png"}
    assert result.name == "sample-folder"  # from the folder's name
    assert load(result, "collection.json")["label"] == {"none": ["Sample Folder"]}
    again = publish_folder(sample, tmp_path / "out", BASE, max_side=300, progress=True)  # a bar on stderr
    assert again.unchanged == 5


def test_regions_from_json(tmp_path: Path) -> None:
    path = tmp_path / "regions.json"
    path.write_text(json.dumps([
        {"file": "a.jpg", "xywh": [1, 2, 3, 4], "text": "x", "language": "en", "tags": ["t1", "t2"]},
        {"slug": "b", "bbox_xyxy": "10,10,20,30", "tags": "t"},
        {"file": "c.jpg", "xywh": "1,2,0,4", "text": "empty"},
        {"xywh": [1, 2, 3, 4], "text": "no file"},
    ]))
    regions, problems = read_regions(path)
    assert [(r.key, r.box, r.text, r.tags) for r in regions] == [
        ("a.jpg", (1, 2, 3, 4), "x", ["t1", "t2"]), ("b", (10, 10, 10, 20), None, ["t"])]
    assert len(problems) == 2


def test_slugs_are_ascii_unique_and_stable(tmp_path: Path) -> None:
    assert slugify("Ritratto d'Ercole II.JPG") == "ritratto-d-ercole-ii-jpg"
    assert slugify("Ça été ÉTÉ") == "ca-ete-ete" and slugify("???") == "image"
    files = [tmp_path / n for n in ("A b.jpg", "a-b.png", "a_b.tif", "x/y.jpg")]
    slugs = assign_slugs(files, tmp_path)
    assert [slugs[f] for f in files] == ["a-b", "a-b-png", "a-b-tif", "x-y"]
    assert assign_slugs(reversed(files), tmp_path) == slugs
    # an earlier publication's slugs are kept: a new file sorting first does not rename a.png
    earlier = assign_slugs([tmp_path / "a.png"], tmp_path)
    later = assign_slugs([tmp_path / "a.jpg", tmp_path / "a.png"], tmp_path, {"a.png": earlier[tmp_path / "a.png"]})
    assert later == {tmp_path / "a.jpg": "a-jpg", tmp_path / "a.png": "a"}


# --- the bundled demo collection -------------------------------------------------------------
def demo_images() -> list[Path]:
    if not DEMO.is_dir():
        pytest.fail(f"{DEMO} is missing: run scripts/build_demo_collection.py")
    return sorted(DEMO.glob("*.jpg"))


def test_demo_collection_is_complete_and_small() -> None:
    images = demo_images()
    assert len(images) == 30
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert total <= 15_000_000, f"demo collection is {total} bytes"
    slugs = {p.stem for p in images}
    metadata = list(csv.DictReader(open(DEMO / "metadata.csv", encoding="utf-8")))
    assert {row["slug"] for row in metadata} == slugs
    assert all(row["title"] and row["licence"] and row["source_repo"] and row["source_path"] for row in metadata)
    attribution = (DEMO / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for row in metadata:
        assert f"## {row['slug']}.jpg" in attribution and row["source_repo"] in attribution
        assert row["licence"] in attribution
    for path in images:
        with Image.open(path) as image:
            assert image.format == "JPEG" and max(image.size) <= 1600


def test_demo_regions_inside_their_images() -> None:
    sizes = {}
    for path in demo_images():
        with Image.open(path) as image:
            sizes[path.stem] = image.size
    rows = list(csv.DictReader(open(DEMO / "regions.csv", encoding="utf-8")))
    assert rows
    for row in rows:
        x1, y1, x2, y2 = map(int, row["bbox_xyxy"].split(","))
        w, h = sizes[row["slug"]]
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h, row
        assert row["label"] and row["language"] == "en"


def test_demo_holds_only_redistributable_images(shared_data: Path) -> None:
    with open(shared_data / "lens" / "artworks.csv", encoding="utf-8") as f:
        artworks = {row["slug"]: row["redistributable"].strip().lower() for row in csv.DictReader(f)}
    present = {p.stem for p in DEMO.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".tif", ".webp"}}
    assert present <= {slug for slug, ok in artworks.items() if ok == "yes"}
    assert len(present) == sum(1 for ok in artworks.values() if ok == "yes")


@pytest.fixture(scope="module")
def published_demo(tmp_path_factory):
    return publish_folder(DEMO, tmp_path_factory.mktemp("demo"), BASE, name="demo")


def test_demo_publishes_and_validates(published_demo, validator) -> None:
    assert (published_demo.published, published_demo.failed) == (30, 0)
    check_every_advertised_url(published_demo)
    assert published_demo.regions == sum(1 for _ in open(DEMO / "regions.csv", encoding="utf-8")) - 1
    assert not [p for p in published_demo.problems if p.severity == "error"]
    for doc in list(manifests(published_demo).values()) + [load(published_demo, "collection.json")]:
        assert not list(validator.iter_errors(doc)), doc["id"]
    venus = load(published_demo, "manifests/botticelli-birth-of-venus.json")
    assert venus["label"] == {"en": ["The Birth of Venus"]}
    assert "mathyptr/SmartLens-app" in json.dumps(venus["requiredStatement"])
    met = load(published_demo, "manifests/met-2001-155-1-john-trumbull.json")
    assert met["rights"] == "http://creativecommons.org/publicdomain/zero/1.0/"


def test_demo_reads_back_with_the_iiif_reader(published_demo) -> None:
    if importlib.util.find_spec("iiif.reader") is None:
        pytest.skip("iiif/reader.py is not written yet (another issue); the read-back check waits for it")
    from iiif.reader import read

    annotated = 0
    for slug in published_demo.slugs:
        doc = load(published_demo, f"manifests/{slug}.json")
        result = read(doc, url=doc["id"])
        assert result.ok, (slug, result.problems)
        canvas = result.resource.canvases[0]
        assert canvas.images[0].service.level == 0
        assert (canvas.width, canvas.height) == (doc["items"][0]["width"], doc["items"][0]["height"])
        annotated += len(canvas.annotations)
        for annotation in canvas.annotations:
            box = annotation.targets[0].box
            assert box is not None and 0 <= box.x and box.x + box.w <= canvas.width + 0.5
    assert annotated == published_demo.regions
