"""What ``devenv init`` reads in a project and proposes for its devenv.toml.

Each module reads one kind of evidence and returns ``Finding`` records
(devenv.scaffold.evidence); ``plan.plan_project`` puts them together and
``render.render_config`` writes the toml text with the reason beside each choice. Nothing
here writes a file: ``devenv.commands.init`` does that.
"""
