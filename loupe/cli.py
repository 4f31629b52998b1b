"""Entry point of the ``loupe`` command.

Subcommands live in ``loupe.commands.<name>`` and are imported only when used, so that
``loupe --help`` and light commands stay fast even when heavy model libraries are installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

from loupe_core import __version__
from loupe_core.logs import configure_logging
from loupe_core.settings import Settings, SettingsError

# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "inspect": "loupe.commands.inspect:inspect_cmd",
    "source": "loupe.commands.source:source",
    "harvest": "loupe.commands.harvest:harvest",
    "publish": "loupe.commands.publish:publish",
    "catalog": "loupe.commands.catalog:catalog",
    "demo": "loupe.commands.demo:demo",
    "bench": "loupe.commands.bench:bench",
    "config": "loupe.commands.config:config",
    "models": "loupe.commands.models:models",
    "index": "loupe.commands.index:index",
    "jobs": "loupe.commands.jobs:jobs",
    "worker": "loupe.commands.worker:worker",
    "serve": "loupe.commands.serve:serve",
    "search": "loupe.commands.search:search",
    "tag": "loupe.commands.tag:tag",
    "augment": "loupe.commands.augment:augment",
    "backup": "loupe.commands.backup:backup_cmd",
    "restore": "loupe.commands.backup:restore_cmd",
    "finetune": "loupe.commands.finetune:finetune",
    "eval": "loupe.commands.eval:eval_cmd",
    "combiner": "loupe.commands.combiner:combiner",
    "detector": "loupe.commands.detector:detector",
    "suggest": "loupe.commands.suggest:suggest",
    "keys": "loupe.commands.keys:keys",
    "scheduler": "loupe.commands.scheduler:scheduler",
    "lens": "loupe.commands.lens:lens",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, t in COMMANDS.items() if importlib.util.find_spec(t.split(":")[0]))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loupe")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where the catalog, index, caches and models live (LOUPE_DATA_DIR; default ./var).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML settings file (LOUPE_CONFIG; default ./loupe.toml when present).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, config_file: str | None, verbose: int) -> None:
    """Loupe: computer vision for collections that already publish IIIF."""
    try:
        ctx.obj = Settings.load(config_file=config_file, data_dir=data_dir)
        configure_logging(ctx.obj, verbosity=verbose)
    except SettingsError as e:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        raise click.UsageError(str(e)) from None


def main() -> None:
    try:
        cli(prog_name="loupe")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SettingsError as e:  # a setting found unusable only when used (proxy_url, ca_bundle)
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
