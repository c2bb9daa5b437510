"""The one place auditlog's version is written: pyproject.toml reads it at build time
([tool.setuptools.dynamic]), and `auditlog --version` without importlib.metadata, whose import
costs more than the rest of printing it."""

__version__ = "0.1.0"
