"""One settings object for the whole of Loupe.

Values come, in increasing priority, from the defaults below, an optional TOML file
(``LOUPE_CONFIG`` or ``./loupe.toml``; keys as the field names, optionally grouped under a
``[loupe]`` table), and environment variables ``LOUPE_<FIELD>`` (upper case). Nothing reads
the environment anywhere else: code receives a ``Settings`` and passes it on.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from loupe_core import __version__


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    # Where everything lives: catalog, index, caches, models, published collections.
    data_dir: Path = Path("var")
    # SQLAlchemy URL of the catalog; empty means a SQLite file under data_dir.
    catalog_url: str = ""

    # --- HTTP client (harvesting) -------------------------------------------------------
    # Contact put into the User-Agent so that server operators can reach the harvester's owner.
    contact: str = "https://github.com/loupe-iiif/iiif-loupe"
    # Requests per second per host (politeness), and parallel connections per host.
    rate_limit_per_host: float = 1.0
    concurrency_per_host: int = 1
    # Parallel fetches while harvesting one source. Threads are handed work only for hosts
    # that may be asked now (connector/host_dispatch.py), so a few serve many hosts; raise it
    # when the servers are slow to answer (each thread waits for one response at a time).
    harvest_workers: int = 4
    # Sources harvested at the same time by `loupe harvest` (every source): an aggregator
    # with many institutions raises it. Politeness stays per host whatever the number.
    harvest_parallel_sources: int = 4
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    # Largest JSON document accepted (bytes).
    max_json_bytes: int = 20 * 1024 * 1024
    # Largest image download accepted (bytes).
    max_image_bytes: int = 40 * 1024 * 1024
    max_retries: int = 4
    backoff_base_s: float = 1.0
    # Longest wait accepted from a Retry-After header; longer ones fail the request.
    max_retry_after_s: float = 300.0
    respect_robots: bool = True
    # After robots.txt fails (5xx, timeout, unreachable), the host counts as disallowed for
    # this long before robots.txt is asked for again (RFC 9309 section 2.3.1.4).
    robots_error_retry_s: float = 600.0
    # Longest time one response may take from request to last byte: the read timeout alone
    # never stops a server that trickles a byte at a time.
    total_timeout_s: float = 300.0
    max_redirects: int = 5
    # Egress proxy for harvesting, e.g. http://proxy.museum.org:3128 (credentials as
    # http://user:password@host:port); empty: direct connections. https is tunnelled with
    # CONNECT (TLS end to end), http is forwarded. Every URL still passes the SSRF guard
    # first; the proxy resolves names itself (README, Safety). HTTPS_PROXY is never read.
    proxy_url: str = ""
    # Comma-separated host names fetched directly, not through the proxy; an entry covers its
    # subdomains too (museum.org covers iiif.museum.org). Private addresses that a source is
    # allowed to reach are always fetched directly.
    proxy_bypass: str = ""
    # CONNECT to the address the guard checked instead of the host name, so that the proxy
    # cannot resolve the name to another address; only for names that resolve here, and only
    # with proxies that accept an address in CONNECT (some filtering proxies need the name).
    proxy_pin_address: bool = False
    # A PEM file (or a folder of hashed PEM files, as made by `openssl rehash`) of CA
    # certificates trusted in addition to certifi's bundle: an institution's own CA, or a
    # TLS-inspecting proxy's.
    ca_bundle: str = ""

    # --- Images ---------------------------------------------------------------------------
    # Longest side of images fetched for indexing and training, and of uploads as decoded for
    # search and tagging (so an upload of a collection's image looks as the indexed one did).
    image_max_side: int = 1024
    # Pillow's decompression-bomb limit (pixels).
    max_image_pixels: int = 100_000_000

    # --- Models (loupe_models; `loupe models list`) ---------------------------------------
    # Registry name of the CLIP model used for embedding and search.
    model: str = "MobileCLIP2-S0"
    # A local checkpoint for `model` (an open_clip state dict: .safetensors, .bin, .pt); looked
    # at before <data_dir>/models/<model>/ and the Hugging Face cache.
    model_path: str = ""
    # Hugging Face hub cache folder; empty: Hugging Face's own default (HF_HUB_CACHE, HF_HOME).
    hf_cache_dir: str = ""
    # May missing weights be downloaded from the Hugging Face hub? (HF_HUB_OFFLINE=1 also says no.)
    model_download: bool = True
    # Arithmetic of the model and of a fine-tuning run's frozen features: fp32, bf16, or auto
    # (bf16 where the processor has it natively: AVX512-BF16, AMX, CUDA; fp32 elsewhere). bf16
    # embeddings keep cosine >= 0.999 with fp32.
    model_precision: str = "auto"
    # cpu, cuda, or auto (cuda when available).
    model_device: str = "auto"
    torch_threads: int = 0  # 0: number of cores available to this process
    # Images per forward pass when embedding (0: 8 on CPU, where larger batches gain nothing,
    # 64 on CUDA), and threads decoding and resizing images (0: cores).
    embed_batch_size: int = 0
    embed_workers: int = 0

    # --- Index (vectors; the compact store, or Qdrant) -------------------------------------
    # Empty: local mode, one process owns the index under data_dir/index (see local_index).
    # Otherwise the URL of a Qdrant server, e.g. http://qdrant:6333.
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    qdrant_timeout_s: float = 30.0
    # Prefix of Loupe's Qdrant collections (one per model vector) and the name of the alias
    # that points at the active one. Not a IIIF Collection.
    qdrant_collection: str = "loupe"
    # Server mode only: HNSW graph (m, ef_construct), the query-time beam (ef), int8 scalar
    # quantization kept in RAM and rescored with this oversampling, payload kept on disk,
    # and distribution (shards, replicas) for aggregators.
    hnsw_m: int = 16
    hnsw_ef_construct: int = 128
    hnsw_ef_search: int = 128
    quantization_oversampling: float = 2.0
    qdrant_on_disk_payload: bool = True
    qdrant_shards: int = 1
    qdrant_replicas: int = 1
    # Local mode's store: "compact" (Loupe's own: int8 codes in memory scanned in full, float32
    # rescoring, payloads in SQLite; measured with 500,000 points on 2 cores) or "qdrant"
    # (Qdrant local mode, how Loupe stored points before; slow and memory-hungry past 20,000).
    # The compact store copies a Qdrant local index it finds beside it on first open.
    local_index: str = "compact"
    # Local mode: above this many points in one model's vector, warn and explain how to move
    # to a server (measured: search p95 reaches about 50 ms near a million points on 2 cores).
    # Qdrant local mode warns at 20,000 at most.
    local_points_warning: int = 1_000_000
    # Threads that scan the compact store's codes for one search (0: the cores available).
    index_search_threads: int = 0
    # Local mode: "owner" (this process opens, writes and locks the index: `loupe serve`, `loupe
    # worker --index-owner`, `loupe index`) or "reader" (API processes under gunicorn beside an
    # owner: a read-only copy of the compact store that follows the owner's commits, checked
    # every index_refresh_s; loupe_index/replica.py).
    local_index_access: str = "owner"
    index_refresh_s: float = 2.0

    # --- Jobs -----------------------------------------------------------------------------
    # Redis URL of the dramatiq broker (scale-out); empty: an in-process broker and worker
    # threads inside the server process (the embedded default).
    redis_url: str = ""
    # Threads that run jobs: of `loupe worker` (its --threads default) and of the embedded
    # worker inside the server. Heavy jobs use every core already, so a few are enough.
    job_threads: int = 2
    # Which jobs a `loupe worker` takes from the GPU queue (kinds that train on model_device:
    # finetune, combiner): take (them and every other kind), only (nothing else: a GPU worker
    # kept for training), leave (none: CPU workers beside a GPU worker, so training waits for it).
    worker_gpu_jobs: str = "take"
    # A running job writes a heartbeat this often; one whose heartbeat is older than
    # job_stale_after_s belongs to a worker that died: it is marked interrupted and re-enqueued
    # (when a worker starts, and periodically while one runs). Indexing resumes where it stopped.
    job_heartbeat_s: float = 10.0
    job_stale_after_s: float = 120.0
    # Log lines kept per job (the most recent ones).
    job_log_lines: int = 200
    # `loupe scheduler`: how often it looks for sources due (`loupe source schedule`), and how
    # long it waits before trying a failed harvest again.
    scheduler_tick_s: float = 30.0
    scheduler_retry_s: float = 60.0

    # --- Service --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8600
    # Comma-separated keys accepted for write and admin endpoints (LOUPE_API_KEYS). With none,
    # those endpoints answer 403: nothing can be changed through the API. Whitespace around
    # each key is removed, here and in the key a request presents (HTTP drops it from header
    # values anyway): "k1, k2 " is the keys "k1" and "k2", and a key never starts or ends
    # with a space.
    api_keys: str = ""
    # The service's address as the outside world sees it (behind a proxy), for the ids of
    # IIIF documents and links; empty: taken from each request.
    public_url: str = ""
    # Web origins (scheme://host[:port], comma-separated) whose pages may call the review
    # endpoints with a curator's key, e.g. an institution's own Mirador with Loupe's plugin:
    # those endpoints then answer their CORS preflight (X-API-Key, Authorization). Empty: only
    # pages served by Loupe itself can review. Read endpoints are open to every origin anyway.
    review_origins: str = ""
    # Largest image upload accepted by the API (bytes, before decoding). Formats: JPEG, PNG, WEBP.
    max_upload_bytes: int = 10 * 1024 * 1024
    # Largest upload in pixels (width x height, read from the header before decoding). Lower
    # than max_image_pixels: anyone may upload, and a PNG or WEBP is decoded whole (4 bytes a
    # pixel) before it is reduced to image_max_side; a JPEG is decoded already reduced.
    max_upload_pixels: int = 50_000_000
    # Requests that decode an image and run the model at the same time (image and composed
    # search, tagging); 0: the number of cores, at most 4 (the model runs one batch at a time
    # and uses every core already). Uploads then hold at most about
    # image_slots x max_upload_pixels x 4 bytes. Up to 4 x image_slots more requests wait up
    # to image_slot_wait_s for a slot; beyond that a request is answered 503 with Retry-After.
    image_slots: int = 0
    image_slot_wait_s: float = 10.0
    # Connections `loupe serve`'s built-in server answers at once (a thread each, idle ones
    # closed after 60 s); one more is answered 503 with Retry-After. Behind gunicorn its own
    # worker and connection settings apply instead.
    max_connections: int = 200
    # Per-client limit of anonymous requests that run the model (text, image and composed
    # search, tagging): on average this many a minute, up to model_rate_burst in a row after a
    # pause; beyond it 429 with Retry-After. Requests with a valid API key are not limited.
    # Counted in Redis when redis_url is set (shared by every API process), else in memory.
    # 0: no limit.
    model_rate_per_minute: float = 120.0
    model_rate_burst: int = 60
    # Reverse proxies in front of the service that append the client's address to
    # X-Forwarded-For (nginx, a load balancer): the client is the address that many entries
    # from the right. 0: the connection's own address (never trust the header without a proxy:
    # a client can write anything in it).
    trusted_proxy_hops: int = 0
    # Origins allowed to show the service's pages (search page, /viewer) inside a frame, as
    # CSP frame-ancestors, space-separated, e.g. "https://www.museum.example". Empty: only
    # this server's own pages may frame them (clickjacking protection).
    frame_ancestors: str = ""
    # Where the built web apps are: <web_dist_dir>/viewer_plugin/ (Mirador with the plugin)
    # and <web_dist_dir>/lens/ (the lens). Empty: viewer_plugin/dist and lens/dist of the
    # source tree (`make demo` and `make test` build them); the Docker image sets its own.
    web_dist_dir: str = ""
    # A IIIF viewer page that opens content-state links (`?iiif-content=`, e.g. your Mirador
    # or Universal Viewer page); every search result links to its region there. Empty: results
    # carry the encoded content state but no link.
    viewer_url: str = ""
    # The lens's anonymous statistics: batches of events a minute accepted from one client
    # address (more are answered 429 with Retry-After; a museum's visitors behind one NAT
    # share an address; 0: no limit), and k of the reports' k-anonymity: a group (an item,
    # an hour, a language) seen by fewer than k sessions (phones on a day) is hidden.
    lens_events_per_minute: int = 30
    lens_stats_k: int = 5
    lens_stats_days: int = 730  # lens events older than this are deleted (0: kept forever)

    # --- Logs (loupe_core/logs.py) -----------------------------------------------------------
    # "plain" lines or "json" (one object a line: time, level, logger, message, request_id,
    # job_id, exc, and the access log's method, path, status, ms, client), on stderr.
    log_format: str = "plain"
    # debug, info (adds one access line per request), warning or error; each -v of the
    # command line one level more.
    log_level: str = "warning"

    # The TOML file the values were read from, if any (shown by `loupe config`).
    source_file: str | None = field(default=None, compare=False)

    # --- derived paths -------------------------------------------------------------------
    @property
    def catalog(self) -> str:
        if self.catalog_url:
            return self.catalog_url
        return f"sqlite:///{(self.data_dir / 'catalog.sqlite').resolve()}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def image_cache_dir(self) -> Path:
        return self.cache_dir / "images"

    @property
    def http_cache_dir(self) -> Path:
        return self.cache_dir / "http"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def user_agent(self) -> str:
        return f"Loupe/{__version__} (IIIF harvester; +{self.contact})"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.cache_dir, self.published_dir):
            d.mkdir(parents=True, exist_ok=True)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    # --- loading -------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        config_file: str | os.PathLike | None = None,
        **overrides: Any,
    ) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = config_file or env.get("LOUPE_CONFIG")
        if path is None and Path("loupe.toml").is_file():
            path = "loupe.toml"
        if path:
            p = Path(path)
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise SettingsError(f"configuration file {p} does not exist (LOUPE_CONFIG)") from None
            except tomllib.TOMLDecodeError as e:
                raise SettingsError(f"configuration file {p} is not valid TOML: {e}") from None
            data = data.get("loupe", data)
            for k, v in data.items():
                if k not in _FIELDS:
                    raise SettingsError(f"{p}: unknown setting {k!r}; known: {', '.join(sorted(_FIELDS))}")
                values[k] = _coerce(k, v, str(p))
            values["source_file"] = str(p)
        for name in _FIELDS:
            key = f"LOUPE_{name.upper()}"
            if key in env:
                values[name] = _coerce(name, env[key], key)
        for k, v in overrides.items():
            if v is not None:
                values[k] = _coerce(k, v, "override")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = str(v) if isinstance(v, Path) else v
        out["catalog_url"] = _mask_password(self.catalog)
        out["proxy_url"] = _mask_password(self.proxy_url)
        if self.api_keys:
            out["api_keys"] = "***"
        if self.qdrant_api_key:
            out["qdrant_api_key"] = "***"
        return out

    @property
    def review_origin_set(self) -> frozenset[str]:
        """``review_origins`` as origins (lower case, no trailing slash)."""
        return frozenset(o.strip().rstrip("/").lower() for o in self.review_origins.split(",") if o.strip())

    @property
    def api_key_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())

    @property
    def image_slot_count(self) -> int:
        """``image_slots``, or by default the cores available to this process (1 to 4)."""
        if self.image_slots > 0:
            return self.image_slots
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(4, cores))


_FIELDS = {f.name: f for f in fields(Settings) if f.name != "source_file"}


def _coerce(name: str, value: Any, where: str) -> Any:
    if name not in _FIELDS:
        raise SettingsError(f"unknown setting {name!r}")
    default = _FIELDS[name].default
    kind = type(default)
    try:
        if isinstance(default, Path):
            return Path(value).expanduser()
        if kind is bool:
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("1", "true", "yes", "on"):
                return True
            if s in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true/false")
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError) as e:
        raise SettingsError(f"{where}: setting {name!r} = {value!r} is not a valid {kind.__name__} ({e})") from None


def _mask_password(url: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:***@host`` for display."""
    head, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{head}://{creds.split(':', 1)[0]}:***@{host}"
