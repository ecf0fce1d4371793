"""The project's local state: the ``.devenv`` layout, ports, locks, pid records, privileges.

Every layer reads and writes it (services, supervisor, commands); it imports only the
standard library and ``devenv.errors``.
"""
