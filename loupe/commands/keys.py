"""``loupe keys``: named, revocable API keys for the write and admin endpoints."""

from __future__ import annotations

import json

import click

from connector.catalog import Catalog
from loupe_core.settings import Settings
from search_service.key_store import KeyStore, KeyStoreError


def _store(settings: Settings) -> tuple[Catalog, KeyStore]:
    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    return catalog, KeyStore(catalog.engine)


@click.group("keys")
def keys() -> None:
    """Named API keys (kept hashed in the catalog database). Reviews record a key's name as
    who decided. The keys of the api_keys setting (LOUPE_API_KEYS) keep working beside them."""


@keys.command("add")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the key included).")
@click.pass_obj
def add(settings: Settings, name: str, as_json: bool) -> None:
    """Make a key named NAME and print it: it is shown this once and never stored."""
    catalog, store = _store(settings)
    try:
        info, key = store.add(name)
    except KeyStoreError as e:
        raise click.ClickException(str(e)) from None
    finally:
        catalog.close()
    if as_json:
        click.echo(json.dumps({**info.as_json(), "key": key}))
        return
    click.echo(key)
    click.echo(f"key {name!r} made: keep it now, it is not shown again. Send it as 'X-API-Key: KEY'; "
               f"revoke it with `loupe keys revoke {name}`.", err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_cmd(settings: Settings, as_json: bool) -> None:
    """The named keys: name, first characters, made, revoked."""
    catalog, store = _store(settings)
    try:
        found = [k.as_json() for k in store.list()]
    finally:
        catalog.close()
    if as_json:
        click.echo(json.dumps(found))
        return
    if not found:
        click.echo("no named keys (make one with `loupe keys add NAME`)")
    for k in found:
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        click.echo(f"{k['name']:24} {k['key_starts']}…  made {k['created_at']}  {state}")


@keys.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke(settings: Settings, name: str) -> None:
    """Revoke the key NAME: every API process refuses it from its next request on."""
    catalog, store = _store(settings)
    try:
        info = store.revoke(name)
    except KeyStoreError as e:
        raise click.ClickException(str(e)) from None
    finally:
        catalog.close()
    click.echo(f"key {info.name!r} revoked at {info.as_json()['revoked_at']}")
