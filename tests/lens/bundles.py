"""Small lens bundles for tests, in the format of lens/BUNDLE.md, made from the shared artworks
(``../shared/data/lens``, read at run time, never committed), and simulated camera videos.

``write_guide`` writes ``<lens_dir>/<guide>/v<N>/bundle.json`` with the artworks' reference
images and their curators' details, then ``current.json`` (last, as `loupe lens build` does).
The bundle has no models: tests that recognise use the test recognizer (fake_recognizer.js),
which needs only the reference images. ``write_y4m`` writes a visitor's shaky video of a
picture on a gallery wall for Chromium's fake camera.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

LENS_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lens"
ARTWORKS = ("leonardo-annunciation", "botticelli-birth-of-venus")
UNKNOWN_ARTWORK = "boccioni-la-signora-virginia"  # in the shared data, never in a test guide
REFERENCE_MAX_SIDE = 1024
TEXTS = {
    "leonardo-annunciation": {"en": ["The angel Gabriel greets Mary in a walled garden."],
                              "it": ["L'angelo Gabriele saluta Maria in un giardino recintato."]},
    "botticelli-birth-of-venus": {"en": ["Venus arrives at the shore on a shell."],
                                  "it": ["Venere approda sulla riva su una conchiglia."]},
}
AUDIO = {"botticelli-birth-of-venus": {"en": "https://media.example.org/venus-en.mp3"}}


def _rows(name: str) -> list[dict]:
    with (LENS_DATA / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_guide(lens_dir: Path, guide: str = "test", version: int = 1,
                artworks: tuple[str, ...] = ARTWORKS) -> dict:
    """Write the guide's bundle and current.json; returns bundle.json's content."""
    folder = lens_dir / guide / f"v{version}"
    (folder / "items").mkdir(parents=True, exist_ok=True)
    meta = {r["slug"]: r for r in _rows("artworks.csv")}
    details = [r for r in _rows("details.csv") if r["kind"] == "detail" and "quadrant" not in r["file"]]
    items: list[dict] = []
    for slug in artworks:
        with Image.open(LENS_DATA / "artworks" / f"{slug}.jpg") as source:
            image = source.convert("RGB")
        scale = min(1.0, REFERENCE_MAX_SIDE / max(image.size))
        reference = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
        reference.save(folder / "items" / f"{slug}.jpg", quality=88)
        items.append({
            "id": slug, "kind": "artwork", "parent": None, "canvas": f"https://example.org/canvas/{slug}",
            "manifest": f"https://example.org/manifest/{slug}.json", "region": None,
            "size": list(reference.size), "image": f"items/{slug}.jpg",
            "title": {"en": [meta[slug]["title"]], "it": [meta[slug]["title"]]},
            "artist": {"none": [meta[slug]["artist"]]}, "text": TEXTS.get(slug, {}),
            **({"audio": AUDIO[slug]} if slug in AUDIO else {}),
            "links": [{"label": {"en": ["In the viewer"]}, "href": f"https://example.org/viewer/{slug}"}],
        })
        for row in (r for r in details if r["artwork"] == slug):
            x0, y0, x1, y1 = (float(v) * scale for v in row["bbox_in_artwork_xyxy"].split(","))
            name = Path(row["file"]).stem.split("__", 1)[1]
            shows = row["shows"].removeprefix("Detail: ")
            items.append({
                "id": f"{slug}__{name}", "kind": "detail", "parent": slug, "canvas": f"https://example.org/canvas/{slug}",
                "manifest": f"https://example.org/manifest/{slug}.json",
                "region": [round(x0), round(y0), round(x1 - x0), round(y1 - y0)], "size": None, "image": None,
                "title": {"en": [shows]}, "artist": {}, "text": {"en": [f"{shows}, a detail."]}, "links": [],
            })
    bundle = {
        "format": "loupe-lens-bundle/1", "guide": guide, "version": version, "created": "2026-12-03T22:00:00Z",
        "label": {"en": ["Test masterpieces"], "it": ["Capolavori di prova"]}, "languages": ["en", "it"],
        "items": items, "modes": {"retrieval": write_stand_in_model(folder, len(items)),
                                  "classify": write_stand_in_model(folder, len(items), "classify")},
        "verification": {"feature": "orb", "features": "verification/orb.bin", "items": []},
    }
    (folder / "bundle.json").write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    (lens_dir / guide / "current.json").write_text(json.dumps({"version": version}), encoding="utf-8")
    return bundle


def write_stand_in_model(folder: Path, items: int, mode: str = "retrieval") -> dict:
    """The files of a mode, in their places and formats but with nothing learned in
    them (the test recognizer does not read them; the service worker must keep them all):
    a graph model.json whose weightsManifest names two shards, loupe.json beside it, the
    descriptors and the verification features."""
    model = folder / mode
    model.mkdir(parents=True, exist_ok=True)
    (model / "model.json").write_text(json.dumps({
        "format": "graph-model", "generatedBy": "tests", "modelTopology": {"node": []},
        "weightsManifest": [{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": []}]}))
    for shard in ("group1-shard1of2.bin", "group1-shard2of2.bin"):
        (model / shard).write_bytes(bytes(range(256)) * 4)
    (model / "loupe.json").write_text(json.dumps({"input_size": 160}))
    (model / "descriptors.bin").write_bytes(b"\0" * 4 * 8 * items)
    (folder / "verification").mkdir(exist_ok=True)
    (folder / "verification" / "orb.bin").write_bytes(b"\0" * 40)
    if mode == "classify":
        return {"model": "classify/model.json", "input_size": 160, "crop": "center-square",
                "classes": list(range(items)), "thresholds": [0.5] * items}
    return {"model": "retrieval/model.json", "input_size": 160, "crop": "center-square", "dim": 8,
            "descriptors": "retrieval/descriptors.bin", "rows": list(range(items)), "max_distance": [0.5] * items,
            "shortlist": 5}


def visitor_frames(slug: str | None, size: tuple[int, int] = (320, 240), frames: int = 12,
                   fill: float = 0.86) -> list[Image.Image]:
    """A phone held in front of a picture on a gallery wall: the picture fitted into ``fill``
    of the frame, centred, shaking by a few pixels; ``slug`` None: the bare wall."""
    width, height = size
    wall = Image.new("RGB", size, (172, 166, 154))
    ImageDraw.Draw(wall).rectangle([0, int(height * 0.93), width, height], fill=(92, 84, 76))  # the floor
    picture = None
    if slug:
        with Image.open(LENS_DATA / "artworks" / f"{slug}.jpg") as source:
            picture = source.convert("RGB")
        scale = min(width * fill / picture.width, height * fill / picture.height)
        picture = picture.resize((round(picture.width * scale), round(picture.height * scale)), Image.LANCZOS)
    out = []
    for i in range(frames):
        frame = wall.copy()
        dx, dy = round(3 * ((i * 7) % 5 - 2) / 2), round(2 * ((i * 3) % 5 - 2) / 2)
        if picture is not None:
            frame.paste(picture, ((width - picture.width) // 2 + dx, (height - picture.height) // 2 + dy))
        out.append(frame.filter(ImageFilter.GaussianBlur(0.6)) if i % 3 == 0 else frame)
    return out


def write_y4m(path: Path, frames: list[Image.Image], fps: int = 10) -> Path:
    """Frames as a YUV4MPEG2 file (4:2:0), what Chromium's fake camera plays in a loop."""
    width, height = frames[0].size
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            y, u, v = frame.convert("YCbCr").split()
            f.write(b"FRAME\n")
            f.write(y.tobytes())
            f.write(u.resize((width // 2, height // 2), Image.BILINEAR).tobytes())
            f.write(v.resize((width // 2, height // 2), Image.BILINEAR).tobytes())
    return path
