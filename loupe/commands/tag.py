"""``loupe tag``: zero-shot tags for a collection's images, stored for curators to review;
``loupe tag vocab``: the curators' label lists per collection."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_tagging import ScopeError, VocabularyError, VocabularyStore, default_vocabulary, read_vocabulary_file
from loupe_tagging.scope import resolve_scope, vocabulary_key
from loupe_tagging.scoring import MAX_TOP_K
from training_worker.jobs import SUCCEEDED
from training_worker.tagging import TagParams

from ._jobs import enqueue, prepare, run_here

RUN = "run"


class TagGroup(click.Group):
    """``loupe tag COLLECTION [options]`` tags; ``loupe tag vocab ...`` manages the lists.

    A group cannot have both a positional argument and subcommands, so anything that is not
    a subcommand's name goes to the hidden ``run`` command, whole."""

    def resolve_command(self, ctx: click.Context, args: list[str]):  # noqa: ANN201
        if args and args[0] not in self.commands:
            return RUN, self.commands[RUN], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "COLLECTION [--vocabulary FILE|NAME] [--threshold 0.2] "
                                                "[--top-k 3] [--background] [--json]\n"
                                                "  or: loupe tag vocab list|show|set|remove ...")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The tagging options (of the hidden command), then the subcommands."""
        run_cmd = self.commands[RUN]
        rows = [r for p in run_cmd.get_params(ctx)
                if isinstance(p, click.Option) and (r := p.get_help_record(ctx)) is not None]
        with formatter.section("Options"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)


@click.group("tag", cls=TagGroup, context_settings={"ignore_unknown_options": True})
def tag() -> None:
    """Zero-shot tagging: propose labels for every image and annotated region of COLLECTION
    (a IIIF Collection URI or key, a source id or name, or "all") from a vocabulary, and store
    them as machine annotations (model, version, confidence, date) that curators accept or
    reject later. No training needed.

    The vocabulary is the collection's curator list (`loupe tag vocab set`) or the built-in
    default of about 160 labels. Each tag's score is a softmax over the vocabulary of CLIP's
    logits (scale 100): the label's share among the vocabulary's labels, summing to 1 per
    image; it is relative, not a probability that the thing is present.

    Rerunning replaces the model's earlier proposals; tags a curator accepted or rejected are
    kept and never proposed again."""


@tag.command(RUN, hidden=True)
@click.argument("collection")
@click.option("--vocabulary", "vocabulary_ref", default=None, metavar="FILE|NAME",
              help="A label file (text: one a line; CSV with label,language,prompt; JSON), a stored list's "
                   "key, or 'default'. Default: each collection's curator list, else the built-in list.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=TagParams.default("threshold"),
              show_default=True, help=TagParams.help("threshold").capitalize() + ".")
@click.option("--top-k", type=click.IntRange(1, MAX_TOP_K), default=TagParams.default("top_k"), show_default=True,
              help=TagParams.help("top_k").capitalize() + ".")
@click.option("--no-regions", is_flag=True, help="Tag whole images only, not the annotated regions on them.")
@click.option("--model", "model_name", default=None, help="Model registry name (default: the model setting).")
@click.option("--background", is_flag=True,
              help="Queue a job instead of tagging here: `loupe worker` runs it (redis_url set); in the "
                   "embedded default the server (`loupe serve`) does.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report as JSON (with --background: the queued job).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def run(settings: Settings, collection: str, vocabulary_ref: str | None, threshold: float, top_k: int,
        no_regions: bool, model_name: str | None, background: bool, as_json: bool, no_progress: bool) -> None:
    """Tag COLLECTION's images and store the tags (see `loupe tag --help`). Runs as a job
    (`loupe jobs list` shows it), in the foreground unless --background."""
    params = _params(settings, collection, vocabulary_ref, threshold, top_k, not no_regions, model_name)
    if background:
        enqueue(settings, "tag", params, as_json, here="tag here and now")
    else:
        _run_here(settings, params, as_json, progress=not (no_progress or as_json))


def _params(settings: Settings, collection: str, vocabulary_ref: str | None, threshold: float, top_k: int,
            regions: bool, model_name: str | None) -> dict[str, Any]:
    """The job's parameters, checked before a job is recorded (an unknown model, collection or
    vocabulary is said at once). A vocabulary file goes into the job inline."""
    vocabulary: str | dict[str, Any] | None = vocabulary_ref
    if vocabulary_ref and Path(vocabulary_ref).is_file():
        try:
            found = read_vocabulary_file(vocabulary_ref)
        except VocabularyError as e:
            raise click.BadParameter(str(e), param_hint="--vocabulary") from None
        vocabulary = {"name": found.name, "labels": [t.as_json() for t in found.terms]}
    values = {"collection": collection, "vocabulary": vocabulary, "threshold": threshold, "top_k": top_k,
              "regions": regions, "model": model_name}
    return prepare(settings, "tag", values, {"vocabulary": "--vocabulary", "threshold": "--threshold",
                                             "top_k": "--top-k", "model": "--model"})


def _run_here(settings: Settings, params: dict[str, Any], as_json: bool, progress: bool) -> None:
    record = run_here(settings, "tag", params, progress=progress, desc="tagging")
    report = record.result
    if record.state != SUCCEEDED or report is None:
        if as_json:
            click.echo(json.dumps(record.as_dict()))
        else:
            click.echo(f"job {record.id} {record.state}: {record.message}")
        sys.exit(1)
    if as_json:
        click.echo(json.dumps({**report, "job": record.id}))
        return
    click.echo(f"tagged {report['images']} images and {report['regions']} regions of {report['collection']} with "
               f"{report['model_version']}: {report['proposed']} tags proposed (threshold {report['threshold']}, "
               f"top {report['top_k']}), {report['replaced']} earlier proposals replaced, "
               f"{report['kept_decisions']} curator decisions kept, in {report['seconds']:.1f} s (job {record.id})")
    if report["vocabularies"]:
        click.echo("vocabularies: " + ", ".join(f"{k} ({v} images)" for k, v in report["vocabularies"].items()))
    for problem in report["problems"][:20]:
        click.echo(f"warning: {problem}", err=True)
    if report["failed"]:
        click.echo(f"{report['failed']} images could not be fetched; their earlier tags were left as they were.",
                   err=True)


# --- vocabularies ----------------------------------------------------------------------------


@tag.group("vocab")
def vocab() -> None:
    """Curators' label lists: one per collection or source, or 'all' for every collection
    without its own; 'default' is the built-in list."""


def _open_store(settings: Settings):  # noqa: ANN202
    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    return catalog, VocabularyStore(catalog.engine)


@vocab.command("list")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: [{"key", "collection", "size", ...}].')
@click.pass_obj
def vocab_list(settings: Settings, as_json: bool) -> None:
    """The stored lists (and the built-in default)."""

    catalog, store = _open_store(settings)
    try:
        rows = [v.summary() for v in store.list()]
    finally:
        catalog.close()
    default = default_vocabulary()
    rows.insert(0, {"key": default.name, "source_id": None, "collection": None, "title": "built in",
                    "size": len(default), "digest": default.digest[:16], "updated_at": None})
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        applies = r["collection"] or (f"source {r['source_id']}" if r["source_id"] else
                                      ("every collection without its own" if r["key"] == "all" else "built in"))
        click.echo(f"{r['key']:24} {r['size']:>5} labels  {applies}")


@vocab.command("show")
@click.argument("collection")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def vocab_show(settings: Settings, collection: str, as_json: bool) -> None:
    """The labels of COLLECTION's list ('default': the built-in one)."""

    if collection == "default":
        data = default_vocabulary().as_json()
    else:
        catalog, store = _open_store(settings)
        try:
            key = vocabulary_key(catalog, store, collection)
            found = store.get(key)
        except ScopeError as e:
            raise click.ClickException(str(e)) from None
        finally:
            catalog.close()
        if found is None:
            raise click.ClickException(f"{collection} has no list of its own (key {key}); it is tagged with "
                                       "the 'all' list if there is one, else the default")
        data = found.as_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for t in data["labels"]:
        extra = "".join(f"  [{k}: {t[k]}]" for k in ("language", "prompt") if k in t)
        click.echo(f"{t['label']}{extra}")


@vocab.command("set")
@click.argument("collection")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", default=None, help="A name for the list, shown in listings.")
@click.pass_obj
def vocab_set(settings: Settings, collection: str, file: Path, title: str | None) -> None:
    """Use the labels in FILE for COLLECTION (a collection URI or key, a source, or 'all').
    FILE: text with one label a line, CSV with a label column (and optional language, prompt),
    or JSON. Replaces the collection's earlier list."""
    try:
        vocabulary = read_vocabulary_file(file)
    except VocabularyError as e:
        raise click.BadParameter(str(e), param_hint="FILE") from None
    catalog, store = _open_store(settings)
    try:
        scope = resolve_scope(catalog, collection)
        stored = store.put(scope.key, vocabulary, source_id=scope.source_id, collection_uri=scope.collection_uri,
                           title=title or file.name)
    except ScopeError as e:
        raise click.ClickException(str(e)) from None
    finally:
        catalog.close()
    click.echo(f"vocabulary {stored.key}: {len(stored.vocabulary)} labels for {scope.description}")


@vocab.command("remove")
@click.argument("collection")
@click.pass_obj
def vocab_remove(settings: Settings, collection: str) -> None:
    """Forget COLLECTION's list: it is tagged with the 'all' list or the default again."""

    catalog, store = _open_store(settings)
    try:
        key = vocabulary_key(catalog, store, collection)
        removed = store.delete(key)
    except ScopeError as e:
        raise click.ClickException(str(e)) from None
    finally:
        catalog.close()
    click.echo(f"vocabulary {key} removed" if removed else f"{collection} had no list of its own")
