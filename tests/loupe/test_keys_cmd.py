"""``loupe keys add|list|revoke``: the key printed once, listed without it, revoked."""

from __future__ import annotations

import json

from connector.catalog import Catalog
from loupe_core.settings import Settings
from search_service.key_store import KeyStore


def test_keys_add_list_revoke(run, tmp_path):
    made = run("keys", "add", "registrar")
    key = made.stdout.strip().splitlines()[0]
    assert key.startswith("loupe_") and "not shown again" in made.stderr
    as_json = json.loads(run("keys", "add", "photographer", "--json").stdout)
    assert as_json["name"] == "photographer" and as_json["key"].startswith("loupe_") and as_json["active"]

    listed = run("keys", "list").stdout
    assert "registrar" in listed and "photographer" in listed and key not in listed and key[:10] in listed
    settings = Settings.load(data_dir=str(tmp_path / "data"))
    catalog = Catalog.open(settings)
    try:
        assert KeyStore(catalog.engine).name_of(key) == "registrar"
        assert "revoked" in run("keys", "revoke", "registrar").stdout
        assert KeyStore(catalog.engine).name_of(key) is None
    finally:
        catalog.close()
    rows = {k["name"]: k for k in json.loads(run("keys", "list", "--json").stdout)}
    assert rows["registrar"]["revoked_at"] and rows["photographer"]["active"]

    again = run("keys", "add", "registrar", ok=False)
    assert again.exit_code != 0 and "never reused" in again.output
    unknown = run("keys", "revoke", "nobody", ok=False)
    assert unknown.exit_code != 0 and "no key named 'nobody'; active keys: photographer" in unknown.output
    bad = run("keys", "add", "two words", ok=False)
    assert bad.exit_code != 0 and "start with a letter" in bad.output
