"""``loupe tag`` and ``loupe tag vocab`` from the command line, on a copy of the harvested demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from loupe.cli import cli
from tests.support.demo import DEMO_IMAGES, DEMO_NAME, DEMO_REGIONS
from tests.support.deps import need


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("LOUPE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LOUPE_HF_CACHE_DIR", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("LOUPE_MODEL_DOWNLOAD", "0")
    monkeypatch.setenv("LOUPE_MODEL", "loupe-tiny")
    monkeypatch.setenv("LOUPE_IMAGE_MAX_SIDE", "256")
    monkeypatch.chdir(tmp_path)


def loupe(settings, *args: str):  # noqa: ANN001, ANN201
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "tag", *args])


def test_vocab_set_show_list_and_tag_with_it(demo_settings, tmp_path: Path) -> None:  # noqa: ANN001
    need("open_clip")
    labels = tmp_path / "demo-labels.csv"
    labels.write_text("label,language,prompt\nAnnunciation,en,\nsunflowers,en,a vase of sunflowers\nhorse,,\n",
                      encoding="utf-8")
    done = loupe(demo_settings, "vocab", "set", DEMO_NAME, str(labels))
    assert done.exit_code == 0, done.output
    assert "3 labels" in done.output
    shown = json.loads(loupe(demo_settings, "vocab", "show", DEMO_NAME, "--json").output)
    assert [t["label"] for t in shown["labels"]] == ["Annunciation", "sunflowers", "horse"]
    assert shown["labels"][1]["prompt"] == "a vase of sunflowers"
    listed = json.loads(loupe(demo_settings, "vocab", "list", "--json").output)
    assert [(v["key"], v["size"]) for v in listed][:1] == [("default", listed[0]["size"])]
    assert (DEMO_NAME, 3) in [(v["key"], v["size"]) for v in listed]

    result = loupe(demo_settings, DEMO_NAME, "--threshold", "0", "--top-k", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert (report["images"], report["regions"], report["proposed"]) == (DEMO_IMAGES, DEMO_REGIONS,
                                                                         DEMO_IMAGES + DEMO_REGIONS)
    assert report["vocabularies"] == {DEMO_NAME: DEMO_IMAGES} and report["model"] == "loupe-tiny"

    text = tmp_path / "two.txt"
    text.write_text("skull\nlily\n", encoding="utf-8")
    again = loupe(demo_settings, DEMO_NAME, "--vocabulary", str(text), "--no-regions", "--top-k", "2",
                  "--threshold", "0", "--no-progress")
    assert again.exit_code == 0, again.output
    assert f"tagged {DEMO_IMAGES} images and 0 regions" in again.output and "two (30 images)" in again.output
    removed = loupe(demo_settings, "vocab", "remove", DEMO_NAME)
    assert removed.exit_code == 0 and "removed" in removed.output


def test_usage_errors(demo_settings, tmp_path: Path) -> None:  # noqa: ANN001
    unknown = loupe(demo_settings, "no-such-collection", "--json")
    assert unknown.exit_code == 1 and "neither 'all', a source" in unknown.output
    assert loupe(demo_settings, DEMO_NAME, "--threshold", "2").exit_code == 2
    assert loupe(demo_settings, DEMO_NAME, "--vocabulary", "no-such-list", "--json").exit_code == 1
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    bad = loupe(demo_settings, "vocab", "set", DEMO_NAME, str(empty))
    assert bad.exit_code == 2 and "no labels" in bad.output
    helped = loupe(demo_settings, "--help")
    assert "--threshold" in helped.output and "vocab" in helped.output and "softmax" in helped.output


def test_missing_weights_say_where_to_put_them(demo_settings, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LOUPE_MODEL", "ViT-B-32")
    result = CliRunner().invoke(cli, ["--data-dir", str(demo_settings.data_dir), "tag", DEMO_NAME, "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "weights for model 'ViT-B-32' not found" in result.output
    assert str(demo_settings.data_dir / "models" / "ViT-B-32") in result.output


def jobs(settings, *args: str):  # noqa: ANN001, ANN201
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "jobs", *args])


def test_tag_runs_as_a_job_in_the_foreground(demo_settings, tmp_path: Path) -> None:  # noqa: ANN001
    need("open_clip")
    labels = tmp_path / "three.txt"
    labels.write_text("Annunciation\nsunflowers\nhorse\n", encoding="utf-8")
    result = loupe(demo_settings, DEMO_NAME, "--vocabulary", str(labels), "--threshold", "0", "--top-k", "1",
                   "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["proposed"] == DEMO_IMAGES + DEMO_REGIONS and report["vocabularies"] == {"three": DEMO_IMAGES}
    (job,) = json.loads(jobs(demo_settings, "list", "--json").output.strip().splitlines()[-1])
    assert (job["id"], job["kind"], job["state"]) == (report["job"], "tag", "succeeded")
    assert job["result"]["proposed"] == report["proposed"]


def test_background_queues_a_tag_job(demo_settings, tmp_path: Path) -> None:  # noqa: ANN001
    labels = tmp_path / "two.txt"
    labels.write_text("skull\nlily\n", encoding="utf-8")
    result = loupe(demo_settings, DEMO_NAME, "--vocabulary", str(labels), "--top-k", "2", "--no-regions",
                   "--background")
    assert result.exit_code == 0, result.output
    assert "jobs run inside `loupe serve`" in result.output and "to tag here and now" in result.output
    queued = json.loads(loupe(demo_settings, "all", "--background", "--json").output.strip().splitlines()[-1])
    assert (queued["kind"], queued["state"], queued["params"]) == ("tag", "queued", {"collection": "all"})
    listed = json.loads(jobs(demo_settings, "list", "--json").output.strip().splitlines()[-1])
    first = next(j for j in listed if j["id"] != queued["id"])
    assert (first["kind"], first["state"]) == ("tag", "queued")
    assert first["params"] == {"collection": DEMO_NAME, "top_k": 2, "regions": False,
                               "vocabulary": {"name": "two", "labels": [{"label": "skull"}, {"label": "lily"}]}}
    refused = loupe(demo_settings, "no-such-collection", "--background")
    assert refused.exit_code == 1 and "neither 'all', a source" in refused.output
    assert len(json.loads(jobs(demo_settings, "list", "--json").output.strip().splitlines()[-1])) == 2
