"""``loupe bench harvest --hosts``: the aggregator's harvest, small enough for the suite."""

from __future__ import annotations

import json

from click.testing import CliRunner

from loupe.bench.multihost import max_rate
from loupe.cli import cli


def test_bench_harvest_hosts_prints_the_measured_rates(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["bench", "harvest", "--hosts", "3", "--per-host", "3", "--rate", "20",
                                      "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert list(last) == ["hosts", "manifests", "per_s", "per_host_max_rate"]
    assert last["hosts"] == 3 and last["manifests"] == 9
    assert 0 < last["per_host_max_rate"] <= 20  # measured at the servers
    assert last["per_s"] > 20  # more than one host's rate: the hosts ran side by side


def test_max_rate_is_one_over_the_shortest_gap_of_any_host() -> None:
    log = [("a", "/1", 0.0), ("b", "/1", 0.05), ("a", "/2", 0.5), ("b", "/2", 0.30), ("a", "/3", 1.0)]
    rate, requests = max_rate(log)
    assert abs(rate - 4.0) < 1e-9 and requests == {"a": 3, "b": 2}
