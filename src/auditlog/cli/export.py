"""Commands of the export part of the CLI, registered on the main app when imported."""

from auditlog.cli.main import app  # noqa: F401
