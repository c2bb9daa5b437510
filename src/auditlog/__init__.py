"""auditlog: a tamper-evident, event-sourced audit log for Indonesian regional oversight."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("auditlog")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
