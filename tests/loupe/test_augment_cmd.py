"""``loupe augment`` from the command line, on a copy of the harvested demo."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from loupe.cli import cli
from tests.support.demo import DEMO_IMAGES, DEMO_NAME
from tests.support.deps import need


def loupe(settings, *args: str):  # noqa: ANN001, ANN201
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "augment", *args])


def test_augment_writes_views_and_the_contact_sheet(demo_settings, tmp_path: Path) -> None:  # noqa: ANN001
    need("loupe_models.augmentation.camera")  # first: it turns off albumentations' update check
    sheet = tmp_path / "sheets" / "demo.png"
    result = loupe(demo_settings, DEMO_NAME, "--views", "1", "--long-side", "96", "--processes", "1",
                   "--sheet-views", "6", "--sheet", str(sheet), "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["train"]["images"] + report["validation"]["images"] == DEMO_IMAGES
    assert sheet.read_bytes()[:4] == b"\x89PNG" and Path(report["contact_sheet"]).is_file()
    text = loupe(demo_settings, DEMO_NAME, "--views", "1", "--long-side", "64", "--sheet-views", "0",
                 "--processes", "1", "--no-progress")
    assert text.exit_code == 0 and "train: 24 views of 24 images" in text.output, text.output


def test_unknown_collection_and_bad_values_are_said(demo_settings) -> None:  # noqa: ANN001
    unknown = loupe(demo_settings, "no-such-collection")
    assert unknown.exit_code != 0 and "no-such-collection" in unknown.output
    bad = loupe(demo_settings, "--views", "0")
    assert bad.exit_code == 2 and "--views" in bad.output
