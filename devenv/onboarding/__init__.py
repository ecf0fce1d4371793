"""The first-day onboarding: an ordered list of steps, each checked by a real signal.

``devenv.onboarding.flow.Onboarding`` runs them (the CLI and the TUI drive
it); ``devenv.onboarding.model`` holds the records a face shows
(``StepView``, ``Outcome``, ``Result``) and ``devenv.onboarding.events`` what
it emits while it runs. Steps are built from the config by
``devenv.onboarding.catalog``. Nothing here prints or imports the UI, and this
package imports nothing at import time, so that the git hook
(``python -m devenv.onboarding.lint``) starts fast.
"""
