"""auditlog: a tamper-evident, event-sourced audit log for Indonesian regional oversight."""

from functools import cache


@cache
def version() -> str:
    """The installed version; looked up on demand because importlib.metadata costs ~40 ms,
    which every command would otherwise pay at start-up."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("auditlog")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(name)
