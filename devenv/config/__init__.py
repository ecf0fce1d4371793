"""The project's config: devenv.toml, or [tool.devenv] in pyproject.toml, plus the Procfile.

``load_project()`` finds the config by walking up from the current folder
(like git) and returns an immutable ``Config``. Every mistake in a user's
file is a ``ConfigError`` naming the file, the line and the key; the keys are
declared in devenv.config.schema, and the README's key reference is written
from it.

Only the standard library, ``honcho.environ`` and devenv modules are
imported here: the CLI loads this on every command and must stay fast.
"""

from devenv.config.discovery import (
    CONFIG_FILE,
    LOCKFILE_NAMES,
    LOCKFILE_PATTERNS,
    PYPROJECT_FILE,
    PYPROJECT_PREFIX,
    bundled_service_names,
    detect_lockfiles,
    find_config,
)
from devenv.config.loader import error_at, load_config, load_project
from devenv.config.model import (
    Config,
    DatabaseConfig,
    Dependency,
    FirstChange,
    HooksConfig,
    LockfilesConfig,
    OnboardingConfig,
    ProcessConfig,
    ProjectConfig,
    ReadyProbe,
    Scalar,
    ServiceConfig,
)
from devenv.config.schema import (
    CONDITIONS,
    DATABASES_SERVICE,
    DEFAULT_SHIP,
    PROD_RUNTIMES,
    RESTART_POLICIES,
)

__all__ = [
    "CONDITIONS",
    "CONFIG_FILE",
    "DATABASES_SERVICE",
    "DEFAULT_SHIP",
    "LOCKFILE_NAMES",
    "LOCKFILE_PATTERNS",
    "PROD_RUNTIMES",
    "PYPROJECT_FILE",
    "PYPROJECT_PREFIX",
    "RESTART_POLICIES",
    "Config",
    "DatabaseConfig",
    "Dependency",
    "FirstChange",
    "HooksConfig",
    "LockfilesConfig",
    "OnboardingConfig",
    "ProcessConfig",
    "ProjectConfig",
    "ReadyProbe",
    "Scalar",
    "ServiceConfig",
    "bundled_service_names",
    "detect_lockfiles",
    "error_at",
    "find_config",
    "load_config",
    "load_project",
]
