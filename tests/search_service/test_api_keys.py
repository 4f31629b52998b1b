"""Named, revocable API keys: the store (SQLite and PostgreSQL), and the service accepting,
naming and refusing them beside the keys of the api_keys setting."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from connector.catalog import Catalog
from connector.catalog.schema import RegionRow
from loupe_tagging.machine_tags import Proposal, replace_proposals
from search_service.key_store import KeyStore, KeyStoreError

SETTING_KEY = "setting-secret"


def test_keys_are_made_listed_found_and_revoked_and_only_their_hash_is_stored(catalog_settings):
    catalog = Catalog.open(catalog_settings)
    try:
        store = KeyStore(catalog.engine)
        info, key = store.add("alice")
        other, other_key = store.add("bob.smith@museum")
        assert key.startswith("loupe_") and len(key) >= 48 and key != other_key
        assert store.name_of(key) == "alice" and store.name_of(f"  {other_key} ") == "bob.smith@museum"
        assert store.name_of("loupe_" + "x" * 43) is None
        assert store.active_count() == 2
        with catalog.engine.connect() as conn:
            stored = [tuple(r) for r in conn.execute(text("SELECT * FROM loupe_api_keys"))]
        assert not any(key in str(v) or other_key in str(v) for row in stored for v in row)
        assert any(hashlib.sha256(key.encode()).hexdigest() in row for row in stored)
        assert info.as_json()["key_starts"] == key[:10] and info.active

        revoked = store.revoke("alice")
        assert revoked.revoked_at is not None and store.name_of(key) is None and store.active_count() == 1
        assert store.revoke("alice").revoked_at == revoked.revoked_at  # twice: the first time stays
        assert [(k.name, k.active) for k in store.list()] == [("alice", False), ("bob.smith@museum", True)]
        with pytest.raises(KeyStoreError, match="never reused"):
            store.add("alice")
        with pytest.raises(KeyStoreError, match="no key named 'carol'; active keys: bob.smith@museum"):
            store.revoke("carol")
        for bad in ("", "1abc", "a b", "x" * 65, "deadbeef0123"):
            with pytest.raises(KeyStoreError):
                store.add(bad)
    finally:
        catalog.close()


@pytest.fixture
def keyed(private_settings):
    """An app over a private copy, with a setting key, and its store."""
    from search_service.app import create_app
    from search_service.services import Services

    settings = private_settings.replace(api_keys=SETTING_KEY)
    services = Services(settings, index_role="test api keys")
    yield create_app(settings, services=services).test_client(), services
    services.close()


def review(client, region_id: int, key: str):  # noqa: ANN001, ANN201
    return client.post(f"/api/machine-annotations/{region_id}/review", json={"decision": "accepted"},
                       headers={"Authorization": f"Bearer {key}"})


def test_reviews_record_the_key_name_and_a_revoked_key_is_refused_at_once(keyed):
    client, services = keyed
    catalog = services.catalog
    with catalog.session() as s:
        person = s.scalars(select(RegionRow).where(RegionRow.made_by == "person")).first()
    replace_proposals(catalog, "loupe-tiny", "loupe-tiny/random-seed0", [person.canvas_id],
                      [Proposal(person.canvas_id, None, "lily", 0.4)])
    with catalog.session() as s:
        machine = s.scalar(select(RegionRow.id).where(RegionRow.made_by == "machine"))
    # Made by another process (the command line) on the same database.
    other = Catalog.open(services.settings)
    _, key = KeyStore(other.engine).add("curator-ann")

    done = review(client, machine, key)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["reviewed_by"] == "curator-ann" and key not in done.get_data(as_text=True)
    by_setting = review(client, machine, SETTING_KEY).get_json()
    assert by_setting["reviewed_by"] == hashlib.sha256(SETTING_KEY.encode()).hexdigest()[:12]

    KeyStore(other.engine).revoke("curator-ann")
    other.close()
    refused = review(client, machine, key)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "invalid_api_key"
    assert "revoked" in refused.get_json()["error"]["message"]
    assert review(client, machine, SETTING_KEY).status_code == 200  # the setting's key keeps working


def test_named_keys_alone_open_admin_endpoints_and_without_any_the_answer_says_how(private_settings):
    from search_service.app import create_app
    from search_service.services import Services

    services = Services(private_settings.replace(api_keys=""), index_role="test named keys only")
    try:
        client = create_app(services.settings, services=services).test_client()
        jobs = "/api/admin/jobs"
        refused = client.get(jobs, headers={"X-API-Key": "anything"})
        assert refused.status_code == 403 and "loupe keys add NAME" in refused.get_json()["error"]["message"]
        _, key = services.api_keys.add("ops")
        assert client.get(jobs, headers={"X-API-Key": key}).status_code == 200
        assert client.get(jobs).get_json()["error"]["code"] == "missing_api_key"
        assert client.get(jobs, headers={"X-API-Key": key + "x"}).status_code == 401
        services.api_keys.revoke("ops")
        # No active key left: a fresh installation's answer again, with how to make one.
        assert client.get(jobs, headers={"X-API-Key": key}).status_code == 403
    finally:
        services.close()
