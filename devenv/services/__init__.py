"""The project's native services (PostgreSQL, Redis, recipe-driven ones) and how they run."""
