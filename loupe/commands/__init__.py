"""One module per ``loupe`` subcommand (see ``loupe.cli.COMMANDS``)."""
