"""Which Service class runs a recipe: its driver's, or the generic runner's."""

from __future__ import annotations

import importlib

from devenv.errors import ConfigError, did_you_mean
from devenv.services.base import Service
from devenv.services.recipes import Recipe

# driver -> "module:Class", imported only when that driver is used
DRIVERS = {
    "postgres": "devenv.services.postgres:PostgresService",
    "redis": "devenv.services.redis:RedisService",
}
GENERIC = "devenv.services.generic:RecipeService"


def service_class(recipe: Recipe) -> type[Service]:
    """The class that runs ``recipe``; an unknown driver is a ConfigError at the recipe's key."""
    driver = recipe.driver
    if driver is None:
        target = GENERIC
    elif driver in DRIVERS:
        target = DRIVERS[driver]
    else:
        raise ConfigError(
            f"unknown driver '{driver}'{did_you_mean(driver, DRIVERS)}; devenv has drivers for "
            + ", ".join(f"'{name}'" for name in DRIVERS)
            + " (leave driver out to run the service from [run])",
            path=recipe.source,
            key="driver",
        )
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
