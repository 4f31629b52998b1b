"""The scale-out deployment files: docker-compose.yml, Dockerfile, .dockerignore.

Docker itself is not available on the test machines, so nothing is built or started. The
compose file is read with PyYAML and checked for its wiring (services, settings, healthchecks,
volumes, secrets), validated with `docker-compose config` when that binary is installed, and
the healthcheck commands that can run outside a container are run against local servers.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from loupe_core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

LOUPE_SERVICES = ("web", "worker", "worker-gpu", "scheduler")
BACKING_SERVICES = ("postgres", "redis", "qdrant")
# Values for the variables the compose file requires, for `docker-compose config`.
REQUIRED_ENV = {"POSTGRES_PASSWORD": "test-password", "LOUPE_API_KEYS": "test-key"}
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEYS?$|_KEY$)", re.I)
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")


def _load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


COMPOSE = _load_compose()
SERVICES: dict = COMPOSE["services"]


def _env(service: str) -> dict:
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):  # "KEY=value" / "KEY" form
        env = dict((item.split("=", 1) + [None])[:2] for item in env)
    return env


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out, buf = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in _dockerfile_instructions():
        if word == "ENV":
            for pair in re.findall(r"(\w+)=(\S+)", rest):
                env[pair[0]] = pair[1]
    return env


def _substitute(value: str) -> str:
    """A compose value with every ${...} replaced by a placeholder, for URL parsing."""
    return INTERPOLATION.sub("PLACEHOLDER", value)


def _loupe_env_names() -> list[str]:
    names = set(_dockerfile_env())
    for svc in SERVICES.values():
        env = svc.get("environment") or {}
        names.update(env if isinstance(env, dict) else [e.split("=", 1)[0] for e in env])
    return sorted(n for n in names if n.startswith("LOUPE_"))


# --- services and wiring -------------------------------------------------------------------


def test_services_declared():
    for name in LOUPE_SERVICES + BACKING_SERVICES:
        assert name in SERVICES, f"service {name!r} missing from docker-compose.yml"


def test_loupe_services_run_the_project_image():
    entrypoint = [rest for word, rest in _dockerfile_instructions() if word == "ENTRYPOINT"]
    assert entrypoint and json.loads(entrypoint[-1]) == ["loupe"]
    commands = {"web": ["serve"], "worker": ["worker"], "worker-gpu": ["worker"], "scheduler": ["scheduler"]}
    images = set()
    for name, command in commands.items():
        svc = SERVICES[name]
        build = svc["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert (ROOT / context).resolve() == ROOT, f"{name} must build from the project root"
        assert svc.get("command") == command, f"{name}: expected `loupe {' '.join(command)}`"
        assert "entrypoint" not in svc, f"{name} must keep the image's `loupe` entrypoint"
        images.add(svc["image"])
    assert len(images) == 1, f"web and workers should share one image, found {images}"
    assert "8600:8600" in [str(p) for p in SERVICES["web"]["ports"]]


def test_web_and_workers_share_settings():
    own = ("LOUPE_MODEL_DEVICE", "LOUPE_WORKER_GPU_JOBS")  # the CPU worker's own: its device, its share of training
    base = {k: v for k, v in _env("worker").items() if k not in own}
    for name in ("web", "worker-gpu", "scheduler"):
        env = _env(name)
        for key, value in base.items():
            assert env.get(key, "<absent>") == value, f"{name}: {key} differs from worker's"
    assert _env("web")["LOUPE_HOST"] == "0.0.0.0", "the server must listen beyond the container"
    assert _env("worker")["LOUPE_MODEL_DEVICE"] == "cpu"
    assert _env("worker-gpu")["LOUPE_MODEL_DEVICE"] == "cuda"
    # CPU workers take training jobs unless told to leave them to the GPU worker; the GPU worker takes them
    assert _env("worker")["LOUPE_WORKER_GPU_JOBS"] == "${LOUPE_CPU_WORKER_GPU_JOBS:-take}"
    assert "LOUPE_WORKER_GPU_JOBS" not in _env("worker-gpu")


def test_catalog_url_points_at_the_postgres_service():
    url = _env("web")["LOUPE_CATALOG_URL"]
    parts = urlsplit(_substitute(url))
    pg = _env("postgres")
    assert parts.scheme == "postgresql+psycopg", "psycopg 3 is what the `postgres` extra installs"
    assert parts.hostname == "postgres" and parts.port == 5432
    assert parts.username == pg["POSTGRES_USER"]
    assert parts.path == "/" + pg["POSTGRES_DB"]
    # The password in the URL is the variable the database is created with.
    url_var = INTERPOLATION.search(url)
    pg_var = INTERPOLATION.search(pg["POSTGRES_PASSWORD"])
    assert url_var and pg_var and url_var["name"] == pg_var["name"] == "POSTGRES_PASSWORD"


def test_qdrant_and_redis_urls_point_at_their_services():
    env = _env("worker")
    qdrant = urlsplit(env["LOUPE_QDRANT_URL"])
    assert (qdrant.scheme, qdrant.hostname, qdrant.port) == ("http", "qdrant", 6333)
    redis = urlsplit(env["LOUPE_REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    published = {str(p).rsplit(":", 1)[-1] for p in SERVICES["qdrant"]["ports"]}
    assert {"6333", "6334"} <= published


def test_data_dir_is_the_shared_volume():
    assert _dockerfile_env().get("LOUPE_DATA_DIR") == "/data"
    for name in LOUPE_SERVICES:
        assert _env(name)["LOUPE_DATA_DIR"] == "/data"
        targets = {v.split(":")[1] for v in SERVICES[name]["volumes"]}
        assert {"/data", "/data/models", "/data/cache"} <= targets, f"{name}: shared volumes missing"


def test_web_and_workers_wait_for_healthy_backing_services():
    for name in LOUPE_SERVICES:
        deps = SERVICES[name]["depends_on"]
        for dep in BACKING_SERVICES:
            assert deps.get(dep, {}).get("condition") == "service_healthy", f"{name} -> {dep}"


def test_healthchecks_present():
    for name in BACKING_SERVICES + ("worker", "worker-gpu", "scheduler", "qdrant-2", "qdrant-3"):
        hc = SERVICES[name].get("healthcheck") or {}
        assert hc.get("test") and not hc.get("disable"), f"{name} has no healthcheck"
    # web inherits the image's HEALTHCHECK rather than repeating it.
    assert "healthcheck" not in SERVICES["web"]
    assert any(word == "HEALTHCHECK" for word, _ in _dockerfile_instructions())
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert SERVICES["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_redis_is_durable_and_postgres_is_16():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert SERVICES["redis"]["image"].split(":")[1].startswith("7")
    assert SERVICES["postgres"]["image"] == "postgres:16"


def test_qdrant_is_pinned_to_the_client_minor_version():
    image = SERVICES["qdrant"]["image"]
    m = re.fullmatch(r"qdrant/qdrant:v(\d+)\.(\d+)\.(\d+)", image)
    assert m, f"pin qdrant to an exact release, not {image!r}"
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    client = next(d for d in deps if d.startswith("qdrant-client"))
    cmajor, cminor = re.search(r"==(\d+)\.(\d+)", client).groups()
    assert (m[1], m[2]) == (cmajor, cminor), f"{image} vs {client}: keep server and client on one minor"


def test_worker_scaling_and_gpu_worker():
    assert isinstance(SERVICES["worker"]["deploy"]["replicas"], int)
    gpu = SERVICES["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices and devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert "profiles" not in SERVICES["worker"] and "profiles" not in SERVICES["web"]


def test_volumes_declared():
    declared = set(COMPOSE.get("volumes") or {})
    used = set()
    for name, svc in SERVICES.items():
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0]
            if not source.startswith((".", "/", "~")):
                used.add(source)
    assert used == declared, f"used {sorted(used)} but declared {sorted(declared)}"
    for name, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data"),
                       ("qdrant", "/qdrant/storage")):
        assert any(v.split(":")[1] == path for v in SERVICES[name]["volumes"]), f"{name} data not on a volume"


def test_no_secrets_hard_coded():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for m in INTERPOLATION.finditer(text):
        if SECRET_NAME.search(m["name"]):
            assert m["op"] not in (":-", "-"), f"${{{m['name']}}} has a default value: {m[0]}"
    for name, svc in SERVICES.items():
        for key, value in _env(name).items():
            if SECRET_NAME.search(key) and value is not None:
                assert INTERPOLATION.fullmatch(str(value)), f"{name}: {key} is hard-coded"
        url = _env(name).get("LOUPE_CATALOG_URL")
        if url:
            userinfo = re.match(r"^[\w+]+://(?P<user>[^:@/]+):(?P<password>.*)@[^@]+$", url)
            assert userinfo and INTERPOLATION.fullmatch(userinfo["password"]), \
                f"{name}: the catalog URL's password must come from a variable: {url}"
    # The API keys are required, not defaulted; the workers, which serve nothing, do not get them.
    assert INTERPOLATION.fullmatch(_env("web")["LOUPE_API_KEYS"])["op"] == ":?"
    assert "LOUPE_API_KEYS" not in _env("worker")


@pytest.mark.parametrize("name", _loupe_env_names())
def test_loupe_variables_are_settings(name):
    fields = {f"LOUPE_{f.name.upper()}" for f in dataclasses.fields(Settings) if f.name != "source_file"}
    assert name in fields, f"{name} is set in the deployment files but is not a Settings field"


# --- Dockerfile and .dockerignore ------------------------------------------------------------


def test_dockerfile():
    instructions = _dockerfile_instructions()
    text = " ".join(f"{w} {r}" for w, r in instructions)
    assert "python:3.11-slim" in text
    assert re.search(r"pip install [^&]*-c constraints\.txt \"?\.\[ml,postgres,server\]\"?", text)
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    volumes = [rest for word, rest in instructions if word == "VOLUME"]
    assert volumes and "/data" in json.loads(volumes[-1])
    assert any(word == "EXPOSE" and "8600" in rest for word, rest in instructions)


def test_the_image_builds_the_web_apps_and_serves_them_from_web_dist_dir(settings, tmp_path):
    """The image builds the viewer plugin and the lens in a Node stage and copies them where
    LOUPE_WEB_DIST_DIR says; an app so configured serves them from there (an installed package
    has no source tree beside it)."""
    from search_service.app import create_app

    instructions = _dockerfile_instructions()
    env = " ".join(rest for word, rest in instructions if word == "ENV")
    web_dir = re.search(r"LOUPE_WEB_DIST_DIR=(\S+)", env).group(1)
    copies = [rest for word, rest in instructions if word == "COPY" and rest.startswith("--from=web")]
    assert f"--from=web /web/viewer_plugin/dist {web_dir}/viewer_plugin" in copies
    assert f"--from=web /web/lens/dist {web_dir}/lens" in copies
    assert any(word == "RUN" and "npm run build" in rest and "lens" in rest for word, rest in instructions)

    built = tmp_path / "web"
    (built / "viewer_plugin").mkdir(parents=True)
    (built / "lens").mkdir()
    (built / "viewer_plugin" / "loupe-mirador.js").write_text("/* the image's viewer */")
    (built / "lens" / "lens.js").write_text("/* the image's lens */")
    (built / "lens" / "index.html").write_text("<!doctype html><title>lens</title>")
    client = create_app(settings.replace(web_dist_dir=str(built))).test_client()
    assert client.get("/viewer/static/loupe-mirador.js").get_data(as_text=True) == "/* the image's viewer */"
    assert client.get("/lens/_app/lens.js").get_data(as_text=True) == "/* the image's lens */"


def test_dockerignore_keeps_the_build_inputs():
    patterns = [p.strip().rstrip("/") for p in DOCKERIGNORE.read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    for needed in (".venv", "var", "node_modules", ".git", "__pycache__", ".pytest_cache", ".env"):
        assert any(p.lstrip("*/") == needed for p in patterns), f".dockerignore: add {needed}"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    inputs = ["pyproject.toml", "constraints.txt", "README.md"] + [p.rstrip("*") for p in packages]
    for path in inputs:
        assert not any(fnmatch(path, p) for p in patterns), f".dockerignore excludes {path}, which the build needs"


# --- the healthcheck commands themselves ------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path in ("/", "/readyz") else 503)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def loupe_port(settings):
    """The real Loupe application served on a free port (what the image's web service runs)."""
    from werkzeug.serving import make_server

    from search_service.app import create_app

    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.port
    server.shutdown()


def test_image_healthcheck_probes_the_web_port(loupe_port, http_port):
    cmd = next(rest for word, rest in _dockerfile_instructions() if word == "HEALTHCHECK")
    argv = json.loads(cmd[cmd.index("CMD") + 3:].strip())
    assert argv[:2] == ["python", "-c"]
    run = lambda port: subprocess.run([sys.executable, "-c", argv[2]], capture_output=True,  # noqa: E731
                                      env={**os.environ, "LOUPE_PORT": str(port)}, timeout=20)
    assert run(loupe_port).returncode == 0
    assert run(_free_port()).returncode != 0, "nothing listening must count as unhealthy"
    assert run(http_port).returncode != 0, "a server without Loupe's /api/health is not Loupe"


def test_worker_healthcheck_asks_a_real_redis(redis_url):
    """The workers' healthcheck, run as compose runs it, against a real redis-server: healthy
    when the broker answers, unhealthy when nothing listens there."""
    argv = SERVICES["worker"]["healthcheck"]["test"]
    assert argv[:3] == ["CMD", "python", "-c"]
    run = lambda url: subprocess.run([sys.executable, "-c", argv[3]], capture_output=True,  # noqa: E731
                                     env={**os.environ, "LOUPE_REDIS_URL": url}, timeout=20)
    assert run(redis_url).returncode == 0
    assert run(f"redis://127.0.0.1:{_free_port()}/0").returncode != 0, "no broker must count as unhealthy"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_qdrant_healthcheck_asks_readyz(http_port):
    argv = SERVICES["qdrant"]["healthcheck"]["test"]
    assert argv[:3] == ["CMD", "bash", "-c"]
    script = argv[3].replace("$$", "$")  # compose's escape for a literal $
    assert "/6333" in script
    ok = subprocess.run(["bash", "-c", script.replace("/6333", f"/{http_port}")], timeout=20)
    assert ok.returncode == 0
    not_ready = subprocess.run(["bash", "-c", script.replace("/6333", f"/{http_port}").replace("/readyz", "/x")],
                               timeout=20)
    assert not_ready.returncode != 0, "a non-200 answer must count as unhealthy"


# --- docker-compose itself ----------------------------------------------------------------------

DOCKER_COMPOSE = shutil.which("docker-compose")
needs_docker_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose); "
           "the compose file was checked with PyYAML only")


def _compose(tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # A clean environment: the developer's own LOUPE_*/COMPOSE_* variables must not leak in.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(extra_env or {})
    # An empty --env-file: a .env the developer keeps beside the compose file must not count either.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run([DOCKER_COMPOSE, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT),
                           "--env-file", str(env_file), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@needs_docker_compose
def test_docker_compose_config_is_valid(tmp_path):
    result = _compose(tmp_path, "--profile", "gpu", "--profile", "cluster", "config", "-q", extra_env=REQUIRED_ENV)
    assert result.returncode == 0, result.stderr


@needs_docker_compose
def test_the_cluster_profile_adds_two_qdrant_peers_to_the_first(tmp_path):
    cluster = yaml.safe_load(_compose(tmp_path, "--profile", "cluster", "config", extra_env=REQUIRED_ENV).stdout)
    nodes = {name: svc for name, svc in cluster["services"].items() if svc["image"].startswith("qdrant/")}
    assert sorted(nodes) == ["qdrant", "qdrant-2", "qdrant-3"]
    assert "profiles" not in nodes["qdrant"] and nodes["qdrant-2"]["profiles"] == nodes["qdrant-3"]["profiles"] == [
        "cluster"], "the first node always runs; the peers only with --profile cluster"
    assert nodes["qdrant"]["command"] == ["./qdrant", "--uri", "http://qdrant:6335"]
    for name in ("qdrant-2", "qdrant-3"):
        command = nodes[name]["command"]
        assert command[command.index("--bootstrap") + 1] == "http://qdrant:6335"
        assert command[command.index("--uri") + 1] == f"http://{name}:6335"
        assert not nodes[name].get("ports"), "peers are reached through the first node only"
    mounts = [[v.split(":")[:2] if isinstance(v, str) else [v["source"], v["target"]] for v in svc["volumes"]]
              for svc in nodes.values()]
    storages = [next(source for source, target in node if target == "/qdrant/storage") for node in mounts]
    assert len(set(storages)) == 3, "each node keeps its own storage"
    assert all(svc["environment"]["QDRANT__CLUSTER__ENABLED"] == "true" for svc in nodes.values())
    assert {"LOUPE_QDRANT_SHARDS", "LOUPE_QDRANT_REPLICAS"} <= set(_env("web"))


@needs_docker_compose
def test_docker_compose_refuses_to_start_without_secrets(tmp_path):
    result = _compose(tmp_path, "config", "-q")
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "LOUPE_API_KEYS" in result.stderr, result.stderr
