"""The project's dependencies: lockfiles read, what is installed, drift, sync, parity.

devenv owns the project's environment (a virtualenv made with uv, and
node_modules) the way it owns its servers: the lockfile is the truth and the
environment a cache of it. Nothing here imports the UI.
"""
