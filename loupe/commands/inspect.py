"""``loupe inspect``: read one IIIF document (file or URL) and show what Loupe understands
of it, with every problem found.

Imports happen inside the command so that ``loupe --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import click

from connector.http import FetchError, FetchPolicy, HttpClient
from iiif.reader import read_bytes
from iiif.summary import summarize
from loupe_core.settings import Settings

# Problems printed in the text view; --json always gives all of them.
MAX_PROBLEMS_SHOWN = 50
EXIT_UNREADABLE = 2


def _is_url(target: str) -> bool:
    return target.lower().startswith(("http://", "https://"))


def _fetch(settings: Settings, url: str, allow_private: bool) -> tuple[bytes, str]:
    """Download with the connector's polite, safe client; exits with 2 on failure."""
    try:
        policy = FetchPolicy.allowing(url) if allow_private else FetchPolicy()
    except (ValueError, FetchError) as e:
        _fail(f"cannot fetch {url}: {e}")
    try:
        with HttpClient(settings) as client:
            result = client.get_json(url, policy=policy)
    except FetchError as e:
        message = str(e)
        _fail(message if url in message else f"cannot fetch {url}: {message}")
    return result.content, str(getattr(result, "final_url", None) or url)


def _read_file(path: str, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        _fail(f"cannot read {path}: {e.strerror or e}")
    if len(data) > max_bytes:
        _fail(f"{path} is larger than max_json_bytes ({max_bytes} bytes; LOUPE_MAX_JSON_BYTES raises it)")
    return data


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _print_text(source: str, summary: dict) -> None:
    version = f"Presentation {summary['version']}" if summary["version"] else "version unknown"
    rows = [
        ("source", source),
        ("type", f"{summary['type']} ({version})"),
        ("label", summary["label"] or "-"),
        ("canvases", summary["canvases"]),
        ("images", summary["images"]),
        ("annotations", summary["annotations"]),
        ("members", summary["members"]),
    ]
    for name, value in rows:
        click.echo(f"{name:12} {value}")
    problems = summary["problems"]
    errors = sum(1 for p in problems if p["severity"] == "error")
    if not problems:
        click.echo("problems     none")
        return
    click.echo(f"problems     {len(problems)} ({errors} errors, {len(problems) - errors} warnings)")
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"  {p['severity']:8} {p['where']}: {p['what']}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (use --json to see all)")


@click.command("inspect")
@click.argument("target", metavar="PATH_OR_URL")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--allow-private", is_flag=True,
              help="Allow the URL's own host and port to be a private/loopback address (off by default, "
                   "against SSRF); redirects to other private hosts stay refused.")
@click.pass_obj
def inspect_cmd(settings: Settings, target: str, as_json: bool, allow_private: bool) -> None:
    """Read a IIIF manifest, collection or annotation page and report what was understood.

    Exits 0 when the document was read, even if problems were found (they are listed);
    exits 2 when the file or URL cannot be read at all.
    """
    if _is_url(target):
        data, url = _fetch(settings, target, allow_private)
        result = read_bytes(data, url=url)
        source = url
    else:
        data = _read_file(target, settings.max_json_bytes)
        result = read_bytes(data)
        source = target
    summary = summarize(result)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_text(source, summary)
