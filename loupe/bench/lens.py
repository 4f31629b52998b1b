"""The lens per frame in headless Chromium on the WASM backend: ``lens/src/recognizer.js``
on a guide's current bundle, timed in the page. ``shortlist_ms``: frame to descriptor
(pixels read, model input, the model); ``verified_ms``: the whole decision (shortlist, ORB
verification, details); ``fallback_ms_p50``: the decision on the frames that needed the
second look. Frames are simulated visitor photos (640 x 480) of the bundle's artworks, or the
photos of a folder. Targets on 2 cores: p50 25 ms and 80 ms."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from loupe_models.augmentation import Sample, VisitorCamera
from loupe_models.augmentation.parallel import views_of

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "lens" / "node_modules"
SCRIPTS = {"tf.min.js": NODE / "@tensorflow/tfjs/dist/tf.min.js",
           "tf-backend-wasm.min.js": NODE / "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
           "opencv.js": NODE / "@techstark/opencv-js/dist/opencv.js"}
RECOGNIZER = ROOT / "lens" / "src" / "recognizer.js"
MODULES = ("recognizer.js", "detect.js")  # recognizer.js and what it imports
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TIMED = """async ([bundle, names, warmup]) => {
  tf.wasm.setWasmPaths('http://loupe.test/lib/');
  await tf.setBackend('wasm'); await tf.ready();
  const { createRecognizer } = await import('http://loupe.test/src/recognizer.js');
  const recognizer = await createRecognizer('http://loupe.test/bundle/', bundle, { tf, cv });
  const frames = [];
  for (const name of names) {
    const image = new Image();
    image.src = 'http://loupe.test/frame/' + name;
    await image.decode();
    frames.push(await createImageBitmap(image));
  }
  for (let i = 0; i < warmup; i++) await recognizer.timed(frames[i % frames.length]);
  const out = [];
  for (const frame of frames) {
    const { decision, shortlist_ms, verified_ms } = await recognizer.timed(frame);
    out.push({ item: decision.item, fallback: !!decision.fallback, shortlist_ms, verified_ms });
  }
  return { backend: recognizer.backend, threads: navigator.hardwareConcurrency, out };
}"""


class BenchError(RuntimeError):
    pass


def model_megabytes(folder: Path, bundle: dict) -> dict[str, float]:
    """Each mode's model files (model.json, weight shards, loupe.json), descriptors apart."""
    out = {}
    for mode, spec in bundle.get("modes", {}).items():
        if spec.get("model"):
            model_dir = (folder / spec["model"]).parent
            apart = Path(spec.get("descriptors") or "-").name
            out[mode] = round(sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file() and p.name != apart)
                              / 1e6, 3)
    return out


def _frames(folder: Path, bundle: dict, count: int, out: Path, photos: Path | None) -> list[str]:
    if photos is not None:
        files = sorted(p for p in photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[:count]
        for p in files:
            shutil.copyfile(p, out / p.name)
        return [p.name for p in files]
    artworks = [i for i in bundle["items"] if i["kind"] == "artwork"]
    names = []
    camera = VisitorCamera(long_side=640, portrait_p=0.0)
    for n in range(count):
        item = artworks[n % len(artworks)]
        view = views_of(Sample(item["id"], folder / item["image"]), [n], 11, camera)[0]
        names.append(f"frame-{n:03d}.png")
        Image.fromarray(view.image).save(out / names[-1])
    return names


def run(folder: Path, frames: int = 40, photos: Path | None = None, warmup: int = 3) -> dict[str, Any]:
    try:
        from playwright.sync_api import sync_playwright  # the browser driver, only for this benchmark
    except ImportError:
        raise BenchError("Playwright is needed: pip install playwright (the test extra)") from None
    chromium = os.environ.get("LOUPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise BenchError("no Chromium found (apt-get install chromium, or set LOUPE_CHROMIUM)")
    missing = [str(p) for p in SCRIPTS.values() if not p.is_file()]
    if missing:
        raise BenchError(f"{', '.join(missing)} absent: run `npm ci` in lens/")
    bundle = json.loads((folder / "bundle.json").read_text())
    with tempfile.TemporaryDirectory(prefix="loupe-bench-lens-") as tmp:
        names = _frames(folder, bundle, frames, Path(tmp), photos)
        served = {**{f"lib/{k}": v for k, v in SCRIPTS.items()},
                  **{f"lib/{p.name}": p for p in (NODE / "@tensorflow/tfjs-backend-wasm/dist").glob("*.wasm")},
                  **{f"src/{name}": RECOGNIZER.parent / name for name in MODULES}}

        def serve(route) -> None:  # noqa: ANN001
            name = route.request.url.split("//loupe.test/", 1)[1]
            if name == "":
                return route.fulfill(body='<!doctype html><meta charset="utf-8"><title>bench</title>',
                                     content_type="text/html; charset=utf-8")
            for prefix, base in (("bundle/", folder), ("frame/", Path(tmp))):
                if name.startswith(prefix):
                    path = base / name[len(prefix):]
                    return route.fulfill(path=str(path)) if path.is_file() else route.fulfill(status=404)
            if name in served:
                kind = "text/javascript; charset=utf-8" if name.endswith(".js") else None
                return route.fulfill(path=str(served[name]), **({"content_type": kind} if kind else {}))
            return route.fulfill(status=404)

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page()
                page.route("http://loupe.test/**", serve)
                page.goto("http://loupe.test/")
                for name in SCRIPTS:
                    page.add_script_tag(url=f"http://loupe.test/lib/{name}")
                measured = page.evaluate(TIMED, [bundle, names, warmup])
            finally:
                browser.close()
    shortlist = np.asarray([m["shortlist_ms"] for m in measured["out"]])
    verified = np.asarray([m["verified_ms"] for m in measured["out"]])
    second = np.asarray([m["verified_ms"] for m in measured["out"] if m["fallback"]])
    sizes = model_megabytes(folder, bundle)
    return {"frames": len(names), "backend": measured["backend"], "recognised": sum(m["item"] is not None
                                                                                  for m in measured["out"]),
            "models_mb": sizes,
            "shortlist_ms_p50": round(float(np.percentile(shortlist, 50)), 1),
            "shortlist_ms_p95": round(float(np.percentile(shortlist, 95)), 1),
            "verified_ms_p50": round(float(np.percentile(verified, 50)), 1),
            "verified_ms_p95": round(float(np.percentile(verified, 95)), 1),
            # frames the first look left without an answer, and what the second look cost them
            "fallback_frames": int(len(second)),
            "fallback_ms_p50": round(float(np.percentile(second, 50)), 1) if len(second) else None,
            "max_model_mb": max(sizes.values()) if sizes else None}
