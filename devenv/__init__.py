"""devenv: a project's native PostgreSQL, Redis and processes, supervised in one place."""

__version__ = "0.1.0"
