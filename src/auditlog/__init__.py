"""auditlog: a tamper-evident, event-sourced audit log for Indonesian regional oversight."""

from auditlog._version import __version__


def version() -> str:
    """The version, from the package itself (see _version.py)."""
    return __version__


__all__ = ["__version__", "version"]
