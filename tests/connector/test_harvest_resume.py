"""A harvest killed mid-way (a real subprocess, SIGKILL) and rerun ends with the same catalog
as an uninterrupted one; Change Discovery streams are applied incrementally."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import HarvestRun, ManifestRow
from connector.harvest import Harvester
from tests.connector.harvest_fixtures import jpeg, manifest_v3, serve_json
from tests.support.httpserver import Reply

CTX3 = "http://iiif.io/api/presentation/3/context.json"


def _env(data_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(LOUPE_DATA_DIR=str(data_dir), LOUPE_RATE_LIMIT_PER_HOST="1000", LOUPE_HARVEST_WORKERS="1")
    return env


def _loupe(*args: str) -> list[str]:
    return [sys.executable, "-m", "loupe", *args]


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("select count(*) from manifests").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_killed_harvest_resumes_to_the_same_catalog(http_server, tmp_path):
    base = http_server.base_url
    n = 24
    serve_json(http_server, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection", "label": {"en": ["slow"]},
        "items": [{"id": f"{base}/m/{i}.json", "type": "Manifest"} for i in range(n)]})
    for i in range(n):
        body = json.dumps(manifest_v3(base, str(i), notes=[f"note {i}"])).encode()
        http_server.route(f"/m/{i}.json", Reply(200, body, content_type="application/json", delay_s=0.15,
                                                etag=f'"v{i}"'))
        http_server.bytes(f"/img/{i}.jpg", jpeg(), content_type="image/jpeg")
    url = f"{base}/collection.json"

    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for d in (killed, clean):
        subprocess.run(_loupe("source", "add", url, "--kind", "collection", "--allow-private"), env=_env(d),
                       check=True, capture_output=True)

    proc = subprocess.Popen(_loupe("harvest", "--no-progress"), env=_env(killed),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _count(killed / "catalog.sqlite") < 3:
        assert proc.poll() is None, "the harvest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    partial = _count(killed / "catalog.sqlite")
    assert 3 <= partial < n

    rerun = subprocess.run(_loupe("harvest", "--no-progress", "--json"), env=_env(killed), capture_output=True,
                           text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert report["counts"]["new"] == n - partial and report["counts"]["unchanged"] == partial

    subprocess.run(_loupe("harvest", "--no-progress"), env=_env(clean), check=True, capture_output=True,
                   timeout=120)
    settings_killed = Catalog.from_url(f"sqlite:///{killed / 'catalog.sqlite'}")
    settings_clean = Catalog.from_url(f"sqlite:///{clean / 'catalog.sqlite'}")
    assert settings_killed.snapshot() == settings_clean.snapshot()
    assert settings_killed.stats()["canvases"] == n == settings_killed.stats()["manifests"]
    with settings_killed.session() as s:
        statuses = [r.status for r in s.scalars(select(HarvestRun).order_by(HarvestRun.id))]
    assert statuses == ["interrupted", "completed"]


def _stream_docs(base: str, pages: list[list[dict]]) -> dict[str, dict]:
    docs = {"/activity/all": {"@context": "http://iiif.io/api/discovery/1/context.json",
                              "id": f"{base}/activity/all", "type": "OrderedCollection",
                              "first": {"id": f"{base}/activity/p0", "type": "OrderedCollectionPage"},
                              "last": {"id": f"{base}/activity/p{len(pages) - 1}", "type": "OrderedCollectionPage"}}}
    for i, items in enumerate(pages):
        page = {"id": f"{base}/activity/p{i}", "type": "OrderedCollectionPage", "orderedItems": items}
        if i:
            page["prev"] = {"id": f"{base}/activity/p{i - 1}", "type": "OrderedCollectionPage"}
        docs[f"/activity/p{i}"] = page
    return docs


def test_change_discovery_update_delete_move_applied_incrementally(settings, http_server):
    fast = settings.replace(rate_limit_per_host=500.0)
    base = http_server.base_url

    def act(kind, name, when, target=None):
        a = {"type": kind, "object": {"id": f"{base}/m/{name}.json", "type": "Manifest"}, "endTime": when}
        if target:
            a["target"] = {"id": f"{base}/m/{target}.json", "type": "Manifest"}
        return a

    for n in ("a", "b", "c", "c2"):
        serve_json(http_server, f"/m/{n}.json", manifest_v3(base, n))
    pages = [[act("Create", "a", "2024-01-01T00:00:00Z"), act("Create", "b", "2024-01-02T00:00:00Z")],
             [act("Create", "c", "2024-01-03T00:00:00Z")]]
    for path, doc in _stream_docs(base, pages).items():
        http_server.json(path, doc)
    cat = Catalog.open(fast)
    src = cat.add_source(f"{base}/activity/all", "change_discovery", allow_private=True)
    with Harvester(fast, cat) as h:
        first = h.harvest(cat.get_source(src.id), fetch_images=False)
    assert first.counts["new"] == 3, first.problems
    assert cat.get_source(src.id).last_activity_time.startswith("2024-01-03")

    # New activities on a new page: update a, delete b, move c -> c2.
    serve_json(http_server, "/m/a.json", manifest_v3(base, "a", label="Updated title"))
    pages.append([act("Update", "a", "2024-02-01T00:00:00Z"), act("Delete", "b", "2024-02-02T00:00:00Z"),
                  act("Move", "c", "2024-02-03T00:00:00Z", target="c2")])
    for path, doc in _stream_docs(base, pages).items():
        http_server.json(path, doc)
    http_server.clear_log()
    with Harvester(fast, cat) as h:
        second = h.harvest(cat.get_source(src.id), fetch_images=False)
    assert (second.counts["updated"], second.counts["new"], second.counts["deleted"]) == (1, 1, 2)
    # a deleted manifest is not fetched
    assert http_server.requests_for("/m/b.json") == []
    with cat.session() as s:
        rows = {m.uri.rsplit("/", 1)[1]: m for m in s.scalars(select(ManifestRow))}
        assert rows["a.json"].label == {"en": ["Updated title"]}
        assert rows["b.json"].status == "deleted" and rows["c.json"].status == "deleted"
        assert rows["c2.json"].status == "ok"
    # nothing new: only the activities at the last crawl time itself are looked at again
    # (the spec stops at activities *before* it), and they change nothing
    http_server.clear_log()
    with Harvester(fast, cat) as h:
        third = h.harvest(cat.get_source(src.id), fetch_images=False)
    assert not (third.counts.get("new") or third.counts.get("updated") or third.counts.get("deleted"))
    assert [r.path for r in http_server.log if r.path.startswith("/m/")] == ["/m/c2.json"]
    # the walk stopped on the newest page, at the last crawl time
    assert http_server.requests_for("/activity/p1") == [] and http_server.requests_for("/activity/p0") == []
