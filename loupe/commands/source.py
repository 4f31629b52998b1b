"""``loupe source``: the places Loupe harvests from."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import click

from connector.catalog import Catalog, CatalogError
from connector.http import FetchError, FetchPolicy, HttpClient
from connector.schedule import ScheduleError, parse_every, parse_window
from iiif.reader import read_bytes
from loupe_core.settings import Settings

KINDS = ("collection", "manifest_list", "change_discovery", "manifest", "static")


def detect_kind(settings: Settings, url: str, allow_private: bool, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Look at what the URL serves: a Collection, a Manifest, an activity stream or a list."""

    try:
        policy = FetchPolicy.allowing(*(((url,) if allow_private else ()) + tuple(allowed_hosts)))
    except (ValueError, FetchError) as e:
        raise click.UsageError(str(e)) from None
    with HttpClient(settings) as client:
        try:
            r = client.get_json(url, policy=policy)
        except FetchError as e:
            raise click.ClickException(f"{e}\n(use --kind to add the source without checking it)") from None
    text = r.content.lstrip()[:1]
    if text not in (b"{", b"["):
        return "manifest_list"
    try:
        data = json.loads(r.content)
    except ValueError:
        raise click.ClickException(f"{url} is neither JSON nor a list of URLs") from None
    if isinstance(data, dict) and data.get("type") in ("OrderedCollection", "OrderedCollectionPage"):
        return "change_discovery"
    result = read_bytes(r.content, url=url)
    if result.type == "Collection":
        return "collection"
    if result.type == "Manifest":
        return "manifest"
    raise click.ClickException(f"{url} is a {result.type}, not a Collection, Manifest or activity stream")


@click.group("source")
def source() -> None:
    """Add, list and remove harvest sources."""


@source.command("add")
@click.argument("url")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="What the URL is; detected by fetching it when omitted.")
@click.option("--name", default=None, help="A short name to refer to the source.")
@click.option("--allow-private", is_flag=True,
              help="Let the source's own host and port be a loopback or private-network address (off by "
                   "default: SSRF guard). Other private hosts and ports stay refused; cloud metadata always is.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST[:PORT]",
              help="Another host this source may reach on a private address (an image server, say); "
                   "HOST alone means ports 80 and 443. Repeatable.")
@click.option("--impolite", is_flag=True, hidden=True,
              help="Skip robots.txt and rate limits (only for benchmarks on your own servers).")
@click.pass_obj
def add(settings: Settings, url: str, kind: str | None, name: str | None, allow_private: bool,
        allow_hosts: tuple[str, ...], impolite: bool) -> None:
    """Add a source: a IIIF Collection URL, a Change Discovery stream, a manifest URL, or a
    local file listing manifest URLs (one per line)."""

    path = Path(url)
    if not url.startswith(("http://", "https://")):
        if path.is_dir():
            raise click.UsageError(f"{url} is a folder: publish it first with `loupe publish {url}`")
        if not path.is_file():
            raise click.UsageError(f"{url} is neither an http(s) URL nor an existing file")
        if allow_private and not allow_hosts:
            raise click.UsageError(f"{url} is a local file, so --allow-private has no host to allow: name the "
                                   "private hosts its manifests are on with --allow-host HOST[:PORT]")
        url, kind = path.resolve().as_uri(), "manifest_list"
    elif kind is None:
        kind = detect_kind(settings, url, allow_private, allow_hosts)
    cat = Catalog.open(settings)
    try:
        src = cat.add_source(url, kind, allow_private=allow_private, name=name, polite=not impolite,
                             allowed_hosts=allow_hosts)
    except CatalogError as e:
        raise click.ClickException(str(e)) from None
    allowed = ([f"private address allowed for {_own_host(src.url)}"] if allow_private and src.url.startswith("http")
               else []) + [f"private address allowed for {h}" for h in src.allowed_hosts]
    click.echo(f"source {src.id} added: {src.url} ({', '.join([src.kind, *allowed])})")


def _own_host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


@source.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(settings: Settings, as_json: bool) -> None:
    """List the sources with their manifest counts and last harvest."""

    sources = Catalog.open(settings).list_sources()
    if as_json:
        click.echo(json.dumps([{
            "id": s.id, "url": s.url, "kind": s.kind, "name": s.name, "allow_private": s.allow_private,
            "allowed_hosts": list(s.allowed_hosts),
            "manifests": s.manifests,
            "last_harvest_at": s.last_harvest_at.isoformat() if s.last_harvest_at else None,
            "harvest_every_s": s.harvest_every_s, "harvest_window": s.harvest_window,
        } for s in sources], indent=2))
        return
    if not sources:
        click.echo("no sources yet: `loupe source add URL` or `loupe publish FOLDER`")
        return
    for s in sources:
        when = s.last_harvest_at.strftime("%Y-%m-%d %H:%M") if s.last_harvest_at else "never harvested"
        click.echo(f"{s.id:>3}  {s.kind:17} {s.manifests:>7} manifests  {when:17}  {s.name or ''}  {s.url}")


@source.command("remove")
@click.argument("ref")
@click.pass_obj
def remove(settings: Settings, ref: str) -> None:
    """Remove a source (by id, name or URL) and everything harvested from it."""

    try:
        Catalog.open(settings).remove_source(ref)
    except CatalogError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"removed {ref}")


@source.command("schedule")
@click.argument("ref")
@click.option("--every", default=None, metavar="INTERVAL",
              help="Harvest this often: 30m, 6h, 1d (or seconds); `loupe scheduler` runs it, then indexes what changed.")
@click.option("--window", default=None, metavar="HH:MM-HH:MM",
              help="Only inside this window of the day, UTC (may cross midnight: 22:00-06:00).")
@click.option("--off", is_flag=True, help="No scheduled harvests for this source.")
@click.pass_obj
def schedule(settings: Settings, ref: str, every: str | None, window: str | None, off: bool) -> None:
    """Schedule the incremental harvest of a source (by id, name or URL) for `loupe scheduler`."""
    if off == bool(every):
        raise click.UsageError("give --every INTERVAL (and optionally --window), or --off")
    try:
        every_s = None if off else parse_every(every or "")
        if window is not None and not off:
            parse_window(window)
    except ScheduleError as e:
        raise click.BadParameter(str(e)) from None
    catalog = Catalog.open(settings)
    try:
        src = catalog.get_source(ref)
        catalog.set_source_state(src.id, harvest_every_s=every_s, harvest_window=None if off else window)
    except CatalogError as e:
        raise click.ClickException(str(e)) from None
    finally:
        catalog.close()
    name = src.name or src.url
    click.echo(f"{name}: no scheduled harvest" if off else
               f"{name}: harvested every {every_s} s{f' within {window} UTC' if window else ''} by `loupe scheduler`")
