"""The ``combiner`` job: triplets imported from CIRR-, FashionIQ- and CSV-shaped files (the
demo's images, read where they are), CLIP4Cir's Combiner trained on them with the tiny model,
and composed search switching from the zero-shot baseline to it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.support.demo import DEMO_FOLDER
from tests.support.deps import need
from training_worker.jobs import JobStore, run_job
from training_worker.kinds import default_registry

KEY = "curator-key-0123456789abcdef"
PARAMS = {"epochs": 60, "batch_size": 32, "learning_rate": 5e-3, "projection_dim": 64, "hidden_dim": 128}


@pytest.fixture(autouse=True)
def needs_open_clip() -> None:
    need("open_clip")


def titles() -> dict[str, str]:
    with open(DEMO_FOLDER / "metadata.csv", newline="", encoding="utf-8") as f:
        return {r["slug"]: r["title"] for r in csv.DictReader(f)}


def write_csv_triplets(path: Path, canvas_of=None) -> int:  # noqa: ANN001
    """Each artwork to each of the next three, asked for by the target's title ("as <title>")."""
    names = titles()
    slugs = sorted(names)
    rows = []
    for i, slug in enumerate(slugs):
        for step in (1, 2, 3):
            target = slugs[(i + step) % len(slugs)]
            ref = canvas_of(slug) if canvas_of and i < 3 else str(DEMO_FOLDER / f"{slug}.jpg")
            rows.append({"reference": ref, "text": f"as {names[target]}", "target": f"{target}.jpg"})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["reference", "text", "target"])
        writer.writeheader()
        writer.writerows(rows)
    # targets are relative to a folder of their own: the CSV's folder holds links to the images
    for slug in slugs:
        link = path.parent / f"{slug}.jpg"
        if not link.exists():
            link.symlink_to(DEMO_FOLDER / f"{slug}.jpg")
    return len(rows)


def test_cirr_and_fashioniq_files_are_imported(tmp_path: Path) -> None:
    from loupe_models.training.triplets import TripletError, read_triplets

    a, b = DEMO_FOLDER / "munch-the-scream.jpg", DEMO_FOLDER / "leonardo-annunciation.jpg"
    cirr = tmp_path / "cap.rc2.train.json"
    cirr.write_text(json.dumps([{"pairid": 7, "reference": "train-1-0-img0", "target_hard": "train-1-0-img1",
                                 "target_soft": {"train-1-0-img1": 1.0}, "caption": "Make it an annunciation",
                                 "img_set": {"id": 1, "members": ["train-1-0-img0", "train-1-0-img1"]}}]))
    split = tmp_path / "split.rc2.train.json"
    split.write_text(json.dumps({"train-1-0-img0": str(a), "train-1-0-img1": str(b)}))
    [t] = read_triplets(cirr, split_file=split)
    assert (t.reference, t.text, t.target) == (str(a), "Make it an annunciation", str(b))

    images = tmp_path / "images"
    images.mkdir()
    (images / "B0001.jpg").symlink_to(a)
    (images / "B0002.jpg").symlink_to(b)
    fiq = tmp_path / "cap.dress.train.json"
    fiq.write_text(json.dumps([{"target": "B0002", "candidate": "B0001",
                                "captions": ["is more colourful.", "has an angel"]}]))
    [t] = read_triplets(fiq, images=images)
    assert (Path(t.reference).name, t.text, Path(t.target).name) == \
        ("B0001.jpg", "Is more colourful and has an angel", "B0002.jpg")

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"candidate": "B0001", "target": "B0002"}]))
    with pytest.raises(TripletError, match="captions"):
        read_triplets(bad)


def test_a_trained_combiner_beats_the_baseline_and_changes_composed_results(private_settings, tmp_path: Path) -> None:
    from search_service.app import create_app
    from search_service.services import Services

    settings = private_settings.replace(torch_threads=2, model_download=False, api_keys=KEY)
    canvas = lambda slug: f"{settings_collection(settings)}/canvas/{slug}"  # noqa: E731
    triplets = tmp_path / "triplets" / "triplets.csv"
    triplets.parent.mkdir()
    n = write_csv_triplets(triplets, canvas_of=lambda slug: canvas(slug) + "#xywh=0,0,200,200")

    services = Services(settings, index_role="test combiner")
    try:
        client = create_app(settings, services=services).test_client()
        slugs = sorted(titles())
        target = slugs[slugs.index("munch-the-scream") + 1]
        query = {"reference": {"canvas": canvas("munch-the-scream")}, "text": f"as {titles()[target]}",
                 "limit": 20}
        before = client.post("/api/search/composed", json=query).get_json()
        assert before["query"]["method"] == "zero-shot-weighted-sum"

        with JobStore.open(settings) as store:
            job = store.create("combiner", {**PARAMS, "triplets": str(triplets)})
            done = run_job(job.id, settings=settings, store=store, registry=default_registry())
        assert done.state == "succeeded", (done.error, done.log)
        result = done.result
        assert result["triplets"] == n and result["active"] and result["vector"] == "loupe-tiny__random"
        assert result["epoch_losses"][-1] < 0.5 * result["epoch_losses"][0]
        ev = result["evaluation"]
        # The tiny random text tower tells titles apart only faintly: the Combiner learns which
        # artworks follow a reference far better than which of them the text names.
        assert ev["combiner"]["mAP"] > ev["baseline"]["mAP"] + 0.25, ev
        assert ev["combiner"]["R@5"] > ev["baseline"]["R@5"] + 0.5, ev

        after = client.post("/api/search/composed", json=query).get_json()
        assert after["query"]["method"] == "combiner-v1"
        assert [r["id"] for r in after["results"]] != [r["id"] for r in before["results"]]
        others = [r["canvas"]["id"] for r in after["results"] if r["canvas"]["id"] != canvas("munch-the-scream")]
        assert canvas(target) in list(dict.fromkeys(others))[:3]

        from click.testing import CliRunner

        from loupe.cli import cli

        listed = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "combiner", "list", "--json"])
        assert listed.exit_code == 0, listed.output
        assert [(r["name"], r["active"]) for r in json.loads(listed.output)] == [("combiner-v1", True)]

        # switching back to the baseline and to the trained version, over HTTP with a key
        vector = result["vector"]
        assert client.get("/api/combiners").get_json()["active"] == {vector: "combiner-v1"}
        switch = lambda version, **kw: client.post("/api/admin/active-combiner",  # noqa: E731
                                                   json={"vector": vector, "version": version}, **kw)
        assert switch(None).status_code == 401
        key = {"X-API-Key": KEY}
        assert switch(None, headers=key).get_json()["active"] is None
        assert client.post("/api/search/composed", json=query).get_json()["query"]["method"] == "zero-shot-weighted-sum"
        assert switch(7, headers=key).status_code == 404
        assert switch(1, headers=key).get_json()["active"] == "combiner-v1"
        assert client.post("/api/search/composed", json=query).get_json()["query"]["method"] == "combiner-v1"
    finally:
        services.close()


def test_numpy_inference_matches_the_torch_combiner() -> None:
    import torch

    from loupe_models.training.combiner import Combiner
    from loupe_models.training.combiner_store import NumpyCombiner

    torch.manual_seed(0)
    model = Combiner(16, 8, 12).eval()
    image, text = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1), \
        torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    with torch.no_grad():
        expected = model.combine(image, text).numpy()
    ours = NumpyCombiner("c", {k: v.numpy() for k, v in model.state_dict().items()})
    assert np.allclose(ours.combine_batch(image.numpy(), text.numpy()), expected, atol=1e-5)


def settings_collection(settings) -> str:  # noqa: ANN001
    """The demo's published base URL (``.../published/demo``)."""
    from connector.catalog import Catalog

    catalog = Catalog.open(settings)
    try:
        return catalog.list_sources()[0].url.rsplit("/", 1)[0]
    finally:
        catalog.close()
