"""IIIF Content Search over a catalog of many annotated regions (``loupe bench search``).

A throw-away SQLite catalog (the embedded default) is filled with synthetic manifests, one
canvas each, eleven annotated regions per canvas, in four collections; each region has a
curator's text of four to twelve words (English, French, German, Italian and Dutch art words
and names, drawn with Zipf frequencies, as real vocabularies are) and sometimes a tag. The
full-text index is built from it (``index_build_s``, ``db_mb``), then queries go through the
real endpoint (Flask's test client: routing, the index, the annotations and hits written as
JSON): single words and word beginnings drawn with the same frequencies (so common words
come up as often as users type them), a few two-word queries, in one manifest (what viewers
ask) and in a whole collection (a quarter of the regions). ``content_search_ms_p95`` is over
all of them; the figures per scope follow.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from connector.catalog import Catalog, fulltext
from connector.catalog.keys import uri_key
from connector.catalog.schema import CanvasRow, CollectionRow, ManifestRow, RegionRow, Source
from loupe_core.settings import Settings
from search_service.app import create_app
from search_service.services import Services

HOST = "https://iiif.bench-museum.example.org"
REGIONS_PER_CANVAS = 11
COLLECTIONS = ("paintings", "prints", "drawings", "photographs")
WORDS = (
    "detail portrait angel saint virgin child madonna landscape river ship sea harbour sky cloud tree flower vase "
    "fruit book letter window door horse rider dog bird lion crown king queen soldier battle city street bridge "
    "church altar candle skull mirror musician lute violin dress hat hand face eye head figure woman man boy girl "
    "shepherd sheep cattle mountain rock storm night moon star sun winter snow ice skater mill canal boat fisherman "
    "net market table bread wine glass silver gold frame signature inscription monogram coat arms shield sword "
    "cross halo wing dove lamb annunciation nativity crucifixion resurrection ascension adoration magi apostle "
    "prophet evangelist martyr bishop pope monk nun donor patron cherub putto nymph satyr venus mars apollo diana "
    "jupiter mercury minerva bacchus hercules "
    "paysage fleuve navire ciel nuage arbre fleur fenêtre cheval chien oiseau couronne roi reine soldat bataille "
    "ville rue pont église autel bougie crâne miroir musicien robe chapeau main visage tête femme homme garçon fille "
    "berger mouton montagne orage nuit lune étoile soleil hiver neige moulin bateau pêcheur marché pain vin verre "
    "Landschaft Fluss Schiff Himmel Wolke Baum Blume Fenster Pferd Hund Vogel Krone König Königin Soldat Schlacht "
    "Stadt Straße Brücke Kirche Altar Kerze Schädel Spiegel Musiker Kleid Hut Hand Gesicht Kopf Frau Mann Junge "
    "Mädchen Hirte Schaf Berg Sturm Nacht Mond Stern Sonne Winter Schnee Mühle Boot Fischer Markt Brot Wein Glas "
    "paesaggio fiume nave cielo nuvola albero fiore finestra cavallo cane uccello corona re regina soldato "
    "battaglia città strada ponte chiesa altare candela teschio specchio musicista vestito cappello mano volto "
    "testa donna uomo ragazzo ragazza pastore pecora montagna tempesta notte luna stella sole inverno neve mulino "
    "landschap rivier schip hemel wolk boom bloem venster paard hond vogel kroon koning koningin soldaat slag stad "
    "straat brug kerk altaar kaars schedel spiegel muzikant jurk hoed hand gezicht hoofd vrouw man jongen meisje "
    "Rembrandt Vermeer Rubens Dürer Botticelli Leonardo Raffaello Tiziano Caravaggio Velázquez Goya Ruysch "
    "Avercamp Goyen Angelico Vouet Poussin Lorrain Watteau Chardin Fragonard Boucher Ingres Delacroix Courbet"
).split()


def run_in_child(regions: int, queries: int = 200, seed: int = 0) -> dict[str, Any]:
    """``run`` in a fresh process, as the server would be: nothing else of the benchmark
    (the model's threads, the vector index) competes with it."""
    done = subprocess.run([sys.executable, "-m", "loupe.bench.content_search", str(regions), str(queries), str(seed)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the content search benchmark failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(regions: int, queries: int = 200, seed: int = 0, folder: Path | None = None) -> dict[str, Any]:
    """Fill a catalog with ``regions`` annotated regions, index it, and time ``queries``
    Content Search requests (half in one manifest, half in a collection)."""
    with tempfile.TemporaryDirectory(prefix="loupe-bench-content-", dir=folder) as tmp:
        settings = Settings.load(env={}, config_file=None, data_dir=Path(tmp) / "var")
        catalog = Catalog.open(settings)
        start = time.perf_counter()
        manifests = _fill(catalog, regions, seed)
        fill_s = time.perf_counter() - start
        with catalog.engine.begin() as conn:
            built = fulltext.rebuild(conn)
        with catalog.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db_mb = sum(p.stat().st_size for p in Path(tmp).rglob("catalog.sqlite*")) / 2**20
        times = _measure(settings, catalog, manifests, queries, seed)
        catalog.close()
    everything = [t for ts in times.values() for t, _ in ts]
    out: dict[str, Any] = {
        "content_search_regions": regions,
        "content_search_ms_p50": _pct(everything, 50), "content_search_ms_p95": _pct(everything, 95),
        "content_search_index_build_s": built["seconds"], "content_search_fill_s": round(fill_s, 1),
        "content_search_db_mb": round(db_mb, 1),
    }
    for scope, ts in times.items():
        out[f"content_search_{scope}"] = {"ms_p50": _pct([t for t, _ in ts], 50), "ms_p95": _pct([t for t, _ in ts], 95),
                                          "hits_p50": int(np.percentile([h for _, h in ts], 50)),
                                          "hits_max": max(h for _, h in ts)}
    return out


def _fill(catalog: Catalog, regions: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(WORDS) + 1)
    weights /= weights.sum()
    order = rng.permutation(len(WORDS))
    canvases = max(1, -(-regions // REGIONS_PER_CANVAS))
    uris = [f"{HOST}/iiif/manifest/{i}" for i in range(canvases)]
    with catalog.engine.begin() as conn:
        conn.execute(insert(Source), [{"id": 1, "url": f"{HOST}/iiif/collection", "kind": "collection"}])
        for start in range(0, canvases, 5000):
            ids = range(start + 1, min(canvases, start + 5000) + 1)
            conn.execute(insert(ManifestRow), [
                {"id": i, "uri": uris[i - 1], "source_id": 1, "label": {"en": [f"Work {i}"]}, "status": "ok",
                 "collection_uri": f"{HOST}/iiif/collection/{COLLECTIONS[(i - 1) % 4]}"} for i in ids])
            conn.execute(insert(CanvasRow), [
                {"id": i, "manifest_id": i, "uri": f"{HOST}/iiif/canvas/{i}", "position": 0, "label": {},
                 "width": 4000, "height": 3000} for i in ids])
        rows: list[dict[str, Any]] = []
        for r in range(regions):
            n = int(rng.integers(4, 13))
            words = [WORDS[order[k]] for k in rng.choice(len(WORDS), n, p=weights)]
            words[0] = words[0].capitalize()
            rows.append({"canvas_id": r // REGIONS_PER_CANVAS + 1, "motivation": "commenting", "made_by": "person",
                         "x": 10.0 * (r % REGIONS_PER_CANVAS), "y": 10.0, "w": 300.0, "h": 200.0,
                         "annotation_id": f"{HOST}/iiif/annotation/{r}", "texts": {"en": [" ".join(words)]},
                         "tags": [WORDS[order[int(rng.integers(0, 40))]]] if r % 3 == 0 else []})
            if len(rows) == 20_000:
                conn.execute(insert(RegionRow), rows)
                rows = []
        if rows:
            conn.execute(insert(RegionRow), rows)
    return uris


def _measure(settings: Settings, catalog: Catalog, manifests: list[str], queries: int, seed: int
             ) -> dict[str, list[tuple[float, int]]]:
    rng = random.Random(seed)
    weights = [1.0 / (k + 1) for k in range(len(WORDS))]
    services = Services(settings, catalog=catalog, index_role="bench content search")
    client = create_app(settings, services=services).test_client()
    collection_key = uri_key(f"{HOST}/iiif/collection/{COLLECTIONS[1]}")
    paths = {"manifest": lambda: f"/iiif/search/2/manifest/{uri_key(rng.choice(manifests))}",
             "collection": lambda: f"/iiif/search/2/collection/{collection_key}"}
    with catalog.engine.begin() as conn:  # the collection must be known to be named by its key
        for name in COLLECTIONS:
            conn.execute(insert(CollectionRow), [{"uri": f"{HOST}/iiif/collection/{name}", "source_id": 1,
                                                        "label": {}}])
    times: dict[str, list[tuple[float, int]]] = {"manifest": [], "collection": []}
    for i in range(queries + 10):
        scope = "manifest" if i % 2 == 0 else "collection"
        picked = rng.choices(WORDS, weights)[0]
        kind = rng.random()
        q = picked if kind < 0.6 else picked[:rng.randint(3, 4)] if kind < 0.9 else \
            f"{picked} {rng.choices(WORDS, weights)[0][:4]}"
        path = paths[scope]()
        t = time.perf_counter()
        response = client.get(path, query_string={"q": q})
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"content search {path}?q={q} answered {response.status_code}: {response.get_data(True)[:300]}")
        if i >= 10:  # the first few warm the caches
            page = response.get_json()
            times[scope].append((elapsed, page["partOf"]["total"] if "partOf" in page else len(page["items"])))
    services.close()
    return times


def _pct(values: list[float], q: int) -> float:
    return round(float(np.percentile(values, q)), 2) if values else 0.0


if __name__ == "__main__":  # python -m loupe.bench.content_search REGIONS [QUERIES [SEED]]
    args = [int(a) for a in sys.argv[1:4]]
    print(json.dumps(run(*args)))
