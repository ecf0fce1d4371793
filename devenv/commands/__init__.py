"""The implementations behind the CLI's subcommands (imported lazily by devenv.cli)."""
