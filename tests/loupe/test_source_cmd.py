"""``loupe source add`` with a private-network allowance: the source's own host and port,
hosts named with --allow-host, and the entries that are refused outright."""

from __future__ import annotations

import json

import pytest

from tests.connector.harvest_fixtures import serve_collection


def test_allow_host_is_stored_with_the_source_and_listed(run, server):
    url = serve_collection(server, ["a"], notes=False)
    out = run("source", "add", url, "--allow-private", "--allow-host", "10.0.0.5:8182",
              "--allow-host", "images.intranet").output
    assert f"private address allowed for 127.0.0.1:{server.port}" in out
    assert "private address allowed for 10.0.0.5:8182" in out and "images.intranet" in out
    listed = json.loads(run("source", "list", "--json").output)
    assert listed[0]["allow_private"] and listed[0]["allowed_hosts"] == ["10.0.0.5:8182", "images.intranet"]


@pytest.mark.parametrize("entry", ["169.254.169.254", "[fd00:ec2::254]:80", "metadata.google.internal",
                                   "2852039166"])
def test_metadata_hosts_cannot_be_allowed(run, server, entry):
    url = serve_collection(server, ["a"], notes=False)
    for kind in ((), ("--kind", "collection")):  # refused when checking the URL and when storing
        out = run("source", "add", url, "--allow-private", "--allow-host", entry, *kind, ok=False)
        assert out.exit_code != 0 and "cloud metadata" in out.output, out.output
    assert json.loads(run("source", "list", "--json").output) == []


def test_bad_allow_host_entry_is_named(run, server):
    out = run("source", "add", server.url("/c.json"), "--kind", "collection", "--allow-host", "intranet:http",
              ok=False)
    assert out.exit_code != 0 and "'intranet:http'" in out.output


def test_local_list_needs_named_hosts_for_the_allowance(run, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("http://10.0.0.5/m/1.json\n")
    out = run("source", "add", str(listing), "--allow-private", ok=False)
    assert out.exit_code == 2 and "--allow-host" in out.output
    assert "manifest_list" in run("source", "add", str(listing), "--allow-host", "10.0.0.5").output
