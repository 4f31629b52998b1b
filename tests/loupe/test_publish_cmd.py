"""``loupe publish FOLDER``: files under the data directory, a catalog source, a summary."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from loupe.cli import cli

# The deliberately broken TIFF makes Pillow warn before it fails; the failure is what we test.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LOUPE_* variable or ./loupe.toml of the developer's leaks into the command."""
    import os

    for key in [k for k in os.environ if k.startswith("LOUPE_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "My Museum"
    folder.mkdir()
    Image.new("RGB", (900, 600), (120, 30, 30)).save(folder / "first.jpg")
    Image.new("RGB", (300, 400), (30, 120, 30)).save(folder / "second.png")
    (folder / "broken.tif").write_bytes(b"II*\x00 nonsense")
    (folder / "meta.csv").write_text("file,title,artist\nfirst.jpg,The First,Someone\n", encoding="utf-8")
    (folder / "regions.json").write_text(json.dumps(
        [{"file": "first.jpg", "bbox_xyxy": [90, 60, 450, 300], "text": "left half", "language": "en"}]))
    return folder


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_publish_writes_registers_and_summarises(folder: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    result = run("--data-dir", str(data_dir), "publish", str(folder), "--metadata", str(folder / "meta.csv"),
                 "--max-side", "450")
    assert result.exit_code == 0, result.output
    root = data_dir / "published" / "my-museum"
    url = "http://127.0.0.1:8600/published/my-museum/collection.json"
    assert result.stdout.strip().splitlines()[-1] == url
    assert "published 2, skipped 0 unchanged, 1 failed" in result.stderr
    assert "broken.tif" in result.stderr
    manifest = json.loads((root / "manifests" / "first.json").read_text())
    assert manifest["label"] == {"none": ["The First"]}
    assert manifest["items"][0]["width"] == 450
    regions = manifest["items"][0]["annotations"][0]["items"]  # regions.json found in the folder
    assert regions[0]["target"].endswith("#xywh=45,30,180,120")  # 900 -> 450: halved
    collection = json.loads((root / "collection.json").read_text())
    assert collection["id"] == url and collection["label"] == {"none": ["My Museum"]}

    again = run("--data-dir", str(data_dir), "publish", str(folder), "--metadata", str(folder / "meta.csv"),
                "--max-side", "450")
    assert again.exit_code == 0 and "published 0, skipped 2 unchanged" in again.stderr

    if importlib.util.find_spec("connector.catalog") is None:
        pytest.skip("connector.catalog is not written yet; the lead wires the source registration")
    from connector.catalog import Catalog
    from loupe_core.settings import Settings

    catalog = Catalog.open(Settings.load(env={}, data_dir=data_dir))
    try:
        sources = [s for s in catalog.list_sources() if s.url == url]
    finally:
        catalog.close()
    assert len(sources) == 1  # registering again is idempotent
    source = sources[0]
    assert (source.kind, source.name, source.allow_private) == ("static", "my-museum", True)
    assert Path(source.local_path) == root.resolve()


def test_publish_with_name_and_base_url(folder: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    result = run("--data-dir", str(data_dir), "publish", str(folder), "--name", "Demo Set",
                 "--base-url", "https://iiif.example.org/demo/", "--no-register")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "https://iiif.example.org/demo/collection.json"
    manifest = json.loads((data_dir / "published" / "demo-set" / "manifests" / "second.json").read_text())
    assert manifest["id"] == "https://iiif.example.org/demo/manifests/second.json"
    assert manifest["items"][0]["width"] == 300  # no --max-side: original size


def test_publish_fails_when_nothing_can_be_published(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("--data-dir", str(tmp_path / "var"), "publish", str(empty), "--no-register")
    assert result.exit_code != 0
    assert "no image could be published" in result.output
