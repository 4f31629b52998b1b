"""``loupe bench``: benchmarks, run on purpose; the last line printed is JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from loupe.bench import augment as augment_bench
from loupe.bench import content_search as content_search_bench
from loupe.bench import detector as detector_bench
from loupe.bench import embed as embed_bench
from loupe.bench import finetune as finetune_bench
from loupe.bench import harvest as harvest_bench
from loupe.bench import lens as lens_bench
from loupe.bench import search as search_bench
from loupe.bench import serve as serve_bench
from loupe.bench import viewer as viewer_bench
from loupe_core.settings import Settings, SettingsError
from loupe_guide import GuideError, current_version, guide_dir
from loupe_models import ModelError, ModelWeightsMissing
from loupe_models.detector.training import FitOptions
from loupe_models.hardware import available_cores
from training_worker.finetune import FinetuneParams


@click.group("bench")
def bench() -> None:
    """Measure Loupe's speed on this machine (not part of the tests)."""


@bench.command("harvest")
@click.option("-n", "--manifests", type=int, default=1000, show_default=True, help="How many manifests to serve.")
@click.option("--workers", type=int, default=None, help="Parallel fetches (default: the harvest_workers setting).")
@click.option("--hosts", type=click.IntRange(0, 60000), default=0,
              help="The aggregator's harvest: this many hosts (127.0.0.2 ...), one source each, politeness on.")
@click.option("--per-host", type=click.IntRange(1), default=20, show_default=True,
              help="With --hosts: manifests per host.")
@click.option("--rate", type=float, default=None,
              help="With --hosts: requests per second per host (default: the rate_limit_per_host setting).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def harvest(settings: Settings, manifests: int, workers: int | None, hosts: int, per_host: int,
            rate: float | None, as_json: bool) -> None:
    """First harvest and re-harvest of N generated manifests served on 127.0.0.1.

    Targets on 2 cores: first harvest >= 100 manifests/s, re-harvest < 10% of its time.

    With --hosts H: H hosts on loopback each serve robots.txt and a collection of --per-host
    manifests, harvested politely as H sources at once. The last line is {"hosts", "manifests",
    "per_s", "per_host_max_rate"}, the rate measured at the servers. Target: per_s at least
    0.8 x hosts x rate, and per_host_max_rate never above the rate."""
    if hosts:
        result = harvest_bench.run_hosts(settings, hosts, per_host, rate, workers, progress=not as_json)
        if not as_json:
            click.echo(f"{result['manifests']} manifests from {result['hosts']} hosts in {result['seconds']} s: "
                       f"{result['per_s']} manifests/s (target {result['target_per_s']}); the busiest host was "
                       f"asked at {result['per_host_max_rate']} requests/s (limit {result['rate']}); "
                       f"{result['requests']} requests")
            for problem in result["problems"]:
                click.echo(f"  problem: {problem}")
        click.echo(json.dumps({key: result[key] for key in ("hosts", "manifests", "per_s", "per_host_max_rate")}))
        return
    result = harvest_bench.run(manifests, workers or settings.harvest_workers, progress=not as_json)
    if not as_json:
        click.echo(f"first harvest: {result['first_per_s']} manifests/s ({result['first_s']} s); "
                   f"re-harvest: {result['reharvest_per_s']} manifests/s ({result['reharvest_s']} s, "
                   f"{100 * result['reharvest_ratio']:.1f}% of the first)")
    click.echo(json.dumps(result))


@bench.command("embed")
@click.option("--model", "model_name", default=None, help="Registry name (default: the model setting, LOUPE_MODEL).")
@click.option("-n", "--images", type=int, default=128, show_default=True, help="How many JPEG files to embed.")
@click.option("--random-weights", is_flag=True,
              help="Random weights (seed 0) for the model's architecture: speed does not depend on "
                   "the weights. Only this benchmark accepts it.")
@click.option("--folder", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder of JPEGs (default: ../shared/data/lens/artworks, else generated images).")
@click.option("--batch-size", type=int, default=None, help="Images per forward pass (default: embed_batch_size).")
@click.option("--workers", type=int, default=None, help="Decoding threads (default: embed_workers, 0 = cores).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def embed(settings: Settings, model_name: str | None, images: int, random_weights: bool, folder: Path | None,
          batch_size: int | None, workers: int | None, as_json: bool) -> None:
    """Embedding pipeline (decode, resize, encode, write) against a plain per-image open_clip
    loop, same model, same files, one run.

    Target on 2 cores: at least 2.5x the plain loop, embeddings matching it (cosine >= 0.999)."""
    settings = settings.replace(**{k: v for k, v in (("embed_batch_size", batch_size),
                                                     ("embed_workers", workers)) if v is not None})
    try:
        result = embed_bench.run(settings, model_name, images, random_weights, folder, progress=not as_json)
    except ModelWeightsMissing as e:
        raise click.ClickException(f"{e}\nFor a speed measurement alone: --random-weights.") from None
    except ModelError as e:
        raise click.ClickException(str(e)) from None
    except SettingsError as e:
        raise click.UsageError(str(e)) from None
    if not as_json:
        click.echo(f"{result['model']}: pipeline {result['pipeline_per_s']} images/s, plain open_clip loop "
                   f"{result['naive_per_s']} images/s ({result['speedup']}x); min cosine {result['min_cosine']}")
    click.echo(json.dumps(result))


@bench.command("search")
@click.option("--model", "model_name", default=None, help="Registry name (default: the model setting, LOUPE_MODEL).")
@click.option("--points", type=int, default=20_000, show_default=True, help="Points in the index.")
@click.option("--qdrant-points", type=int, default=50_000, show_default=True,
              help="Points in Qdrant local mode, measured beside the compact store for comparison (at most "
                   "--points; 0: skip it). At 500,000 it needs about 8 GB and ten minutes.")
@click.option("-n", "--queries", type=int, default=30, show_default=True, help="Queries of each kind.")
@click.option("--regions", type=int, default=None,
              help="Annotated regions for the IIIF Content Search measurement (default: as many as --points; "
                   "0: skip it).")
@click.option("--random-weights", is_flag=True,
              help="Random weights for the model's architecture (speed does not depend on the weights).")
@click.option("--folder", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="JPEGs used as image queries (default: ../shared/data/lens/artworks, else generated).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def search(settings: Settings, model_name: str | None, points: int, qdrant_points: int, queries: int,
           regions: int | None, random_weights: bool, folder: Path | None, as_json: bool) -> None:
    """p50/p95 latency of text and image queries in the embedded default (the compact store),
    with and without filters, split into encoding and search time; the time to open the
    index, the memory it adds, writing speed and recall@10 against exact float32 search;
    the same for Qdrant local mode.

    Then IIIF Content Search over as many annotated regions (a synthetic catalog, its
    full-text index built, queries through the endpoint): content_search_ms_p95.

    Targets on 2 cores at 500,000 points: search p95 < 50 ms with and without filters,
    recall@10 >= 0.99, rss_mb <= 1,500, open_s < 5, upsert_per_s >= 5,000;
    content_search_ms_p95 < 50 ms."""
    if folder is None:
        shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lens" / "artworks"
        folder = shared if shared.is_dir() else None
    try:
        result = search_bench.run(settings, model_name, points, queries, random_weights, folder, qdrant_points)
    except ModelWeightsMissing as e:
        raise click.ClickException(f"{e}\nFor a speed measurement alone: --random-weights.") from None
    except ModelError as e:
        raise click.ClickException(str(e)) from None
    regions = points if regions is None else regions
    if regions > 0:
        result.update(content_search_bench.run_in_child(regions, queries=max(20, 8 * queries)))
    if not as_json:
        click.echo(f"compact store, {result['points']:,} points: open {result['open_s']} s, +{result['rss_mb']} MB "
                   f"resident, {result['upsert_per_s']:,} points/s written, recall@10 {result['recall_at_10']}")
        for part in ("text", "image", "filtered"):
            r = result[part]
            click.echo(f"{part:9} encode p50 {r['encode_ms_p50']} ms, p95 {r['encode_ms_p95']} ms; "
                       f"search p50 {r['search_ms_p50']} ms, p95 {r['search_ms_p95']} ms")
        for case, r in result["filters"].items():
            click.echo(f"  filter {case:10} search p50 {r['search_ms_p50']} ms, p95 {r['search_ms_p95']} ms")
        q = result.get("qdrant_local")
        if q:
            click.echo(f"Qdrant local mode, {q['points']:,} points: open {q['open_s']} s, +{q['rss_mb']} MB resident, "
                       f"{q['upsert_per_s']:,} points/s written, recall@10 {q['recall_at_10']}; search p95 text "
                       f"{q['text']['search_ms_p95']} ms, filtered {q['filtered']['search_ms_p95']} ms")
        if regions > 0:
            click.echo(f"IIIF Content Search, {regions:,} annotated regions: p50 {result['content_search_ms_p50']} ms, "
                       f"p95 {result['content_search_ms_p95']} ms (in a manifest p95 "
                       f"{result['content_search_manifest']['ms_p95']} ms, in a collection p95 "
                       f"{result['content_search_collection']['ms_p95']} ms); full-text index built in "
                       f"{result['content_search_index_build_s']} s, catalog with it {result['content_search_db_mb']} MB")
    click.echo(json.dumps(result))


@bench.command("serve")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--clients", type=click.IntRange(min=1), default=8, show_default=True,
              help="Concurrent clients, each on its own keep-alive connection.")
@click.option("--seconds", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Measured time per endpoint and catalog.")
@click.option("--postgres", "postgres_url", default="", metavar="URL",
              help="An empty PostgreSQL database (postgresql+psycopg://...) to measure the catalog there too.")
@click.option("--model", default="loupe-tiny", show_default=True,
              help="The model indexed and queried (text and image search cost what it costs).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def serve(settings: Settings, workers: int, clients: int, seconds: float, postgres_url: str, model: str,
          as_json: bool) -> None:
    """Requests per second and latency percentiles of text search, image search, IIIF
    annotation pages and Content Search under gunicorn (N workers), concurrent clients on
    loopback, with the catalog in SQLite and (--postgres) PostgreSQL. The last line is
    {"errors", "endpoints": {"CATALOG/ENDPOINT": {"rps", "p50_ms", "p95_ms", "p99_ms"}}}.

    Targets on 2 cores: zero errors; annotation pages and Content Search >= 300 requests/s
    with p95 under 50 ms; text search as fast as the model allows."""
    try:
        result = serve_bench.run(settings, workers=workers, clients=clients, seconds=seconds,
                                 postgres_url=postgres_url, model=model,
                                 progress=(lambda line: None) if as_json else click.echo)
    except (serve_bench.BenchError, ModelError) as e:
        raise click.ClickException(str(e)) from None
    if not as_json:
        for name, r in result["endpoints"].items():
            click.echo(f"{name:30} {r['rps']:8} requests/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
                       f"p99 {r['p99_ms']} ms{'  ' + r['first_error'] if r.get('first_error') else ''}")
        click.echo(f"errors: {result['errors']}")
    click.echo(json.dumps(result))


@bench.command("viewer")
@click.option("-n", "--searches", type=click.IntRange(min=1), default=20, show_default=True,
              help="Region searches drawn with the mouse.")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def viewer(settings: Settings, searches: int, as_json: bool) -> None:
    """Time from a region drawn in the viewer (Mirador with Loupe's plugin, headless
    Chromium) to its similar regions shown: p50/p95 over N searches on the demo collection
    with the tiny model, split into request (with the server's query encoding apart) and
    rendering.

    Target on 2 cores: p95 under 500 ms without the image encoder's time."""
    try:
        result = viewer_bench.run(settings, searches, progress=not as_json)
    except viewer_bench.BenchError as e:
        raise click.ClickException(str(e)) from None
    if not as_json:
        click.echo(f"region drawn -> results shown: p50 {result['total_p50_ms']} ms, p95 {result['total_p95_ms']} ms "
                   f"(without the encoder p95 {result['without_encoder_p95_ms']} ms); request p95 "
                   f"{result['request_p95_ms']} ms (encoder {result['encode_p95_ms']}), rendering p95 "
                   f"{result['render_p95_ms']} ms")
    click.echo(json.dumps(result))


@bench.command("finetune")
@click.option("--model", "model_name", default="MobileCLIP2-S0", show_default=True,
              help="Registry name; its architecture with random weights (speed does not depend on them).")
@click.option("-n", "--pairs", type=int, default=1000, show_default=True, help="Region-caption pairs.")
@click.option("--epochs", type=click.IntRange(1), default=FinetuneParams.default("epochs"), show_default=True,
              help="Epochs of each run (default: as `loupe finetune`).")
@click.option("--batch-size", type=int, default=FinetuneParams.default("batch_size"), show_default=True,
              help="Pairs per step.")
@click.option("--freeze", type=click.Choice(["none", "image", "text"]), default="text", show_default=True,
              help="The tower that does not train (in both runs).")
@click.option("--train-last", type=int, default=0, show_default=True, help="Train only the last N blocks.")
@click.option("--triplets", type=int, default=10_000, show_default=True, help="Combiner triplets (features).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def finetune(settings: Settings, model_name: str, pairs: int, epochs: int, batch_size: int, freeze: str,
             train_last: int, triplets: int, as_json: bool) -> None:
    """CLIP fine-tuning: Loupe's trainer against a plain open_clip training loop (same weights,
    batches and frozen tower), and the Combiner's seconds per epoch on precomputed features.
    Seconds per epoch are the run's total over its epochs (the trainer's preparation
    included); each run is warmed up first by one untimed step on a throwaway copy.

    Target on 2 cores: at least 1.5x the plain loop's pairs per second, same loss per step."""
    try:
        result = finetune_bench.run(settings, model_name, pairs, epochs, batch_size, freeze, train_last, triplets,
                                    progress=not as_json)
    except ModelError as e:
        raise click.ClickException(str(e)) from None
    if not as_json:
        click.echo(f"{result['model']}: trainer {result['pipeline_pairs_per_s']} pairs/s, plain open_clip loop "
                   f"{result['plain_pairs_per_s']} pairs/s ({result['speedup']}x); last loss "
                   f"{result['loss_pipeline_last']} vs {result['loss_plain_last']}; Combiner "
                   f"{result['combiner_s_per_epoch']} s per epoch of {result['combiner_triplets']} triplets")
    click.echo(json.dumps(result))


@bench.command("augment")
@click.option("--images", type=int, default=24, show_default=True, help="Source images (the shared lens artworks, "
              "those with details first; else the demo collection).")
@click.option("--views", type=int, default=24, show_default=True,
              help="Views of each image (fewer: the workers' start, about 1.7 s of imports each, weighs more).")
@click.option("--long-side", type=int, default=384, show_default=True, help="Long side of each view in pixels.")
@click.option("--processes", type=int, default=0, show_default=True, help="Processes of the parallel run (0: every "
              "core).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
def augment(images: int, views: int, long_side: int, processes: int, as_json: bool) -> None:
    """Visitor-camera views per second on 1 process and on all (as `loupe augment` makes them).
    The last line is {"per_s_1", "per_s_all", "processes"}. Target: per_s_all at least 0.8 x
    processes x per_s_1."""
    result = augment_bench.run(images, views, long_side, processes)
    if not as_json:
        click.echo(f"{result['views']} views of {result['images']} images ({result['long_side']} px): "
                   f"{result['per_s_1']} views/s on 1 process, {result['per_s_all']} on {result['processes']} "
                   f"({result['scaling']} x N scaling)")
    click.echo(json.dumps({key: result[key] for key in ("per_s_1", "per_s_all", "processes")}))


@bench.command("detector")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=detector_bench.DEFAULT_FOLDER,
              show_default=True, help="Artworks and details.csv laid out as the shared lens data.")
@click.option("--input-size", type=int, default=256, show_default=True, help="Square input side.")
@click.option("--epochs", type=int, default=30, show_default=True, help="Passes over the views.")
@click.option("--views", type=int, default=32, show_default=True, help="Views of each artwork with details per round.")
@click.option("--background-views", type=int, default=2, show_default=True, help="Views of each other artwork per "
              "round.")
@click.option("--view-rounds", type=int, default=1, show_default=True, help="Distinct rounds of views (epochs take "
              "them in turn).")
@click.option("--validation-views", type=int, default=4, show_default=True, help="Held-out views of each held-out "
              "artwork with details.")
@click.option("--frozen-stages", type=click.IntRange(0, 7), default=7, show_default=True, help="Backbone stages "
              "that do not train (7: none trains; its features are computed once per view).")
@click.option("--lr", "learning_rate", type=float, default=5e-3, show_default=True, help="Learning rate of the head.")
@click.option("--processes", type=int, default=0, show_default=True, help="Processes making views (0: every core).")
@click.option("--threads", type=int, default=0, show_default=True, help="Torch threads (0: every core).")
@click.option("--no-export", is_flag=True, help="Skip the TensorFlow.js export.")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def detector(settings: Settings, folder: Path, input_size: int, epochs: int, views: int, background_views: int,
             view_rounds: int, validation_views: int, frozen_stages: int, learning_rate: float, processes: int,
             threads: int, no_export: bool, as_json: bool) -> None:
    """Train the detector of the shared lens data's 24 named details (its 136 artworks, those
    without details as background) and measure mAP@0.5 on held-out visitor-camera views. The
    last line is {"seconds", "map50", ...}. Target on 2 cores: within 15 minutes."""
    if not (folder / "artworks").is_dir():
        raise click.ClickException(f"{folder}/artworks is absent: point --folder at the shared lens data")
    options = FitOptions(input_size=input_size, epochs=epochs, views=views, background_views=background_views,
                         view_rounds=view_rounds, validation_views=validation_views, frozen_stages=frozen_stages,
                         learning_rate=learning_rate, processes=processes or available_cores())
    try:
        result = detector_bench.run(settings, folder, options, export=not no_export, progress=not as_json,
                                    threads=threads)
    except ModelError as e:
        raise click.ClickException(str(e)) from None
    if not as_json:
        click.echo(f"{result['classes']} classes, {result['images']} images: trained in {result['seconds']} s "
                   f"({result['steps']} steps; views {result['view_s']} s); mAP@0.5 {result['map50']} on "
                   f"{result['held_out_views']} held-out views; {result['torch_bytes']} bytes (PyTorch), "
                   f"{result.get('tfjs_bytes')} bytes (TensorFlow.js uint8)")
@bench.command("lens")
@click.option("--guide", default="default", show_default=True, help="The guide whose current bundle runs.")
@click.option("-n", "--frames", type=click.IntRange(min=1), default=40, show_default=True, help="Frames timed.")
@click.option("--photos", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Frames from this folder (default: simulated visitor photos of the bundle's artworks).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (last line).")
@click.pass_obj
def lens(settings: Settings, guide: str, frames: int, photos: Path | None, as_json: bool) -> None:
    """The lens per frame in headless Chromium (WASM backend): recognizer.js on the guide's
    current bundle; p50/p95 of the shortlist (frame to descriptor) and of the verified
    decision, and the largest mode's model.

    Targets on 2 cores: shortlist p50 <= 25 ms, verified p50 <= 80 ms, models <= 4 MB."""
    try:
        version = current_version(settings.data_dir, guide)
        if version is None:
            raise click.ClickException(f"guide {guide!r} has no bundle yet: run `loupe lens build {guide}`")
        result = lens_bench.run(guide_dir(settings.data_dir, guide) / f"v{version}", frames, photos)
    except (lens_bench.BenchError, GuideError) as e:
        raise click.ClickException(str(e)) from None
    if not as_json:
        click.echo(f"{result['frames']} frames on {result['backend']}: shortlist p50 {result['shortlist_ms_p50']} ms, "
                   f"p95 {result['shortlist_ms_p95']} ms; verified p50 {result['verified_ms_p50']} ms, p95 "
                   f"{result['verified_ms_p95']} ms; second look on {result['fallback_frames']} frames (p50 "
                   f"{result['fallback_ms_p50']} ms); models (MB) {result['models_mb']}")
    click.echo(json.dumps(result))
