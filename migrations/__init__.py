"""Numbered SQL files for the read-model and service tables, and the runner that applies them."""

from migrations.runner import MigrationError, applied_migrations, migrate

__all__ = ["MigrationError", "applied_migrations", "migrate"]
