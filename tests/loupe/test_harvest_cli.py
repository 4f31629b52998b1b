"""The harvesting commands as a user runs them: source add/list/remove, harvest, catalog."""

from __future__ import annotations

import json

from click.testing import CliRunner

from loupe.cli import cli
from tests.connector.harvest_fixtures import manifest_v3, serve_collection, serve_json


def test_every_subcommand_has_help(run):
    top = run("--help").output
    for name in ("inspect", "source", "harvest", "publish", "catalog", "demo", "bench", "config"):
        assert name in top
        assert "Usage:" in run(name, "--help").output
    for group, subs in {"source": ("add", "list", "remove"), "catalog": ("stats", "runs", "problems", "fulltext"),
                        "bench": ("harvest",)}.items():
        for sub in subs:
            assert "Usage:" in run(group, sub, "--help").output


def test_add_detects_kinds_and_refuses_private_without_allowance(run, server):
    url = serve_collection(server, ["a"], notes=False)
    refused = run("source", "add", url, ok=False)
    assert refused.exit_code != 0 and "--allow-private" in refused.output
    assert "source 1 added" in run("source", "add", url, "--allow-private", "--name", "test").output
    run("source", "add", server.url("/m/a.json"), "--allow-private")
    server.json("/activity", {"type": "OrderedCollection", "last": {"id": server.url("/p1")}})
    run("source", "add", server.url("/activity"), "--allow-private")
    listed = json.loads(run("source", "list", "--json").output)
    assert [(s["kind"], s["name"]) for s in listed] == [("collection", "test"), ("manifest", None),
                                                        ("change_discovery", None)]
    assert all(s["allow_private"] for s in listed)
    run("source", "remove", "test")
    assert len(json.loads(run("source", "list", "--json").output)) == 2


def test_add_rejects_folders_and_missing_files_with_a_hint(run, tmp_path):
    out = run("source", "add", str(tmp_path), ok=False)
    assert out.exit_code == 2 and "loupe publish" in out.output
    out = run("source", "add", str(tmp_path / "nope.txt"), ok=False)
    assert out.exit_code == 2 and "neither an http(s) URL nor an existing file" in out.output


def test_harvest_prints_a_summary_and_catalog_stats_counts(run, server):
    url = serve_collection(server, ["a", "b"])
    server.bytes("/m/b.json", b"{ broken", content_type="application/json")
    run("source", "add", url, "--allow-private")
    out = run("harvest", "--no-progress").output
    assert "2 listed, 1 new" in out and "1 failed" in out and "/m/b.json" in out and "not valid JSON" in out
    stats = json.loads(run("catalog", "stats", "--json").output)
    assert stats["manifests"] == 2 and stats["manifests_by_status"] == {"ok": 1, "error": 1}
    assert stats["canvases"] == 1 and stats["regions"] == 2 and stats["images"] == 1
    problems = json.loads(run("catalog", "problems", "--json").output)
    assert [p["manifest"] for p in problems] == [server.url("/m/b.json")]
    runs = json.loads(run("catalog", "runs", "--json").output)
    assert runs[0]["status"] == "completed_with_problems" and runs[0]["counts"]["new"] == 1
    # The full-text index followed the harvest; a rebuild finds the same.
    index = json.loads(run("catalog", "fulltext", "--json").output)
    assert (index["regions"], index["catalog_regions"], index["manifests"], index["stale"]) == (2, 2, 2, False)
    rebuilt = json.loads(run("catalog", "fulltext", "--rebuild", "--json").output)
    assert rebuilt["rebuilt"]["regions"] == 2 and rebuilt["stale"] is False
    assert "up to date" in run("catalog", "fulltext").output


def test_harvest_of_an_unknown_source_is_a_clear_error(run):
    out = run("harvest", "nothing-here", ok=False)
    assert out.exit_code == 1 and "no source 'nothing-here'" in out.output


def test_publish_then_harvest_needs_no_server(run, tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(folder / "red.jpg")
    Image.new("RGB", (200, 300), (10, 200, 10)).save(folder / "green.png")
    (folder / "regions.csv").write_text("file,x,y,w,h,label\nred.jpg,10,10,50,40,a red square\n")
    run("publish", str(folder), "--name", "mine")
    out = run("harvest", "--no-progress").output
    assert "2 new" in out and "images 2 fetched" in out
    stats = json.loads(run("catalog", "stats", "--json").output)
    assert (stats["manifests"], stats["regions"]) == (2, 1)
    # re-publishing and re-harvesting an unchanged folder changes nothing
    run("publish", str(folder), "--name", "mine")
    assert "2 unchanged" in run("harvest", "--no-progress").output


def test_published_manifests_that_link_loupe_harvest_without_its_annotations(run, tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(folder / "red.jpg")
    (folder / "regions.csv").write_text("file,x,y,w,h,label\nred.jpg,10,10,50,40,a red square\n")
    run("publish", str(folder), "--name", "linked", "--link-loupe")
    manifest = json.loads(next((tmp_path.glob("**/published/linked/manifests/red.json"))).read_text())
    assert manifest["items"][0]["annotations"][-1]["id"].startswith("http://127.0.0.1:8600/iiif/annotations/")
    out = run("harvest", "--no-progress").output
    assert "1 new" in out and " 0 problems" in out  # Loupe's own page is not fetched (nor needed)
    stats = json.loads(run("catalog", "stats", "--json").output)
    assert (stats["manifests"], stats["regions"]) == (1, 1)


def test_data_dir_moves_everything(tmp_path, monkeypatch, server):
    url = serve_collection(server, ["a"])
    monkeypatch.setenv("LOUPE_RATE_LIMIT_PER_HOST", "500")
    runner = CliRunner()
    data = tmp_path / "elsewhere"
    for args in (["source", "add", url, "--allow-private"], ["harvest", "--no-progress"]):
        assert runner.invoke(cli, ["--data-dir", str(data), *args]).exit_code == 0
    assert (data / "catalog.sqlite").is_file()
    assert any((data / "cache" / "images").rglob("*.jpg"))


def test_change_discovery_stream_is_detected_and_harvested_via_cli(run, server):
    base = server.base_url
    serve_json(server, "/m/a.json", manifest_v3(base, "a"))
    server.json("/all", {"type": "OrderedCollection", "last": {"id": f"{base}/p0"}})
    server.json("/p0", {"type": "OrderedCollectionPage", "orderedItems": [
        {"type": "Create", "object": {"id": f"{base}/m/a.json", "type": "Manifest"},
         "endTime": "2025-01-01T00:00:00Z"}]})
    run("source", "add", f"{base}/all", "--allow-private")
    report = json.loads(run("harvest", "--json", "--no-images").output.strip().splitlines()[-1])
    assert report["counts"]["new"] == 1 and report["status"] == "completed"
    assert json.loads(run("source", "list", "--json").output)[0]["kind"] == "change_discovery"
