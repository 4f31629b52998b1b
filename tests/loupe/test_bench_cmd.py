"""The benchmarks still run and print their documented JSON (tiny sizes; not a measurement)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from loupe.cli import cli
from loupe_models.hardware import native_bf16
from training_worker.finetune import FinetuneParams


def _last_json(args: list[str], tmp_path, env: dict | None = None) -> dict:
    result = CliRunner(env=env).invoke(cli, ["--data-dir", str(tmp_path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_bench_harvest_prints_the_documented_figures(tmp_path):
    out = _last_json(["bench", "harvest", "-n", "20", "--json"], tmp_path)
    assert out["manifests"] == 20 and out["correct"] is True
    assert out["first_per_s"] > 0 and out["reharvest_per_s"] > 0 and 0 < out["reharvest_ratio"]


def test_bench_search_prints_the_documented_figures(tmp_path):
    out = _last_json(["bench", "search", "--model", "loupe-tiny", "--points", "300", "-n", "3", "--json"], tmp_path)
    assert out["points"] == 300 and out["model"] == "loupe-tiny"
    for part in ("text", "image", "filtered"):
        assert set(out[part]) == {"encode_ms_p50", "encode_ms_p95", "search_ms_p50", "search_ms_p95"}
        assert out[part]["search_ms_p50"] > 0
    assert set(out["filters"]) == {"source", "collection", "kind", "combined"}
    assert out["recall_at_10"] == 1.0  # 300 points: every match is rescored
    assert out["rss_mb"] > 0 and out["open_s"] > 0 and out["upsert_per_s"] > 0
    qdrant = out["qdrant_local"]  # the same figures for Qdrant local mode, for comparison
    assert qdrant["points"] == 300 and qdrant["recall_at_10"] == 1.0
    assert {"rss_mb", "open_s", "upsert_per_s", "text", "image", "filtered", "filters"} <= set(qdrant)
    # IIIF Content Search over as many annotated regions, through the endpoint and its full-text index
    assert out["content_search_regions"] == 300 and 0 < out["content_search_ms_p50"] <= out["content_search_ms_p95"]
    assert out["content_search_index_build_s"] > 0 and out["content_search_db_mb"] > 0
    assert out["content_search_collection"]["hits_max"] > 0  # common words are found


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_bench_finetune_prints_the_documented_figures(tmp_path, precision):
    out = _last_json(["bench", "finetune", "--model", "loupe-tiny", "-n", "16", "--batch-size", "8",
                      "--triplets", "256", "--json"], tmp_path, env={"LOUPE_MODEL_PRECISION": precision})
    epochs = FinetuneParams.default("epochs")  # what `loupe finetune` runs
    assert out["pairs"] == 16 and out["epochs"] == epochs and out["steps"] == 2 * epochs and out["speedup"] > 0
    assert out["pipeline_warm_up_s"] > 0 and out["plain_warm_up_s"] > 0  # both untimed, both warmed
    assert list(out)[-1] == "speedup"
    assert out["frozen_precision"] == ("bf16" if precision == "auto" and native_bf16("cpu") else "fp32")
    if out["frozen_precision"] == "fp32":
        assert out["loss_max_abs_diff"] < 1e-4  # the same computation as the plain loop
    else:  # the frozen tower's features in bf16: the same training, to bf16's rounding
        assert out["loss_max_abs_diff"] < 1e-2 * out["loss_plain_last"]
    assert out["combiner_s_per_epoch"] > 0 and out["plain_pairs_per_s"] > 0
