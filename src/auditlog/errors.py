"""Errors that reach the user, and the exit codes of CLI.md in one place."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1
    USAGE = 2
    INTEGRITY = 3
    BUSY = 4


class Refusal(Exception):
    """Bad input, a rule of the domain, or a missing store: one line for the user, exit 1.

    Raised before anything is written, so the store is left exactly as it was.
    """

    exit_code = ExitCode.REFUSED


class ProjectionsOutdated(Refusal):
    """The derived read-model tables are of an earlier shape and this login may not remake
    them (on a server, only their owner may): a reading command folds the log instead."""


class StoreBusy(Exception):
    """The store kept changing underneath (or stayed locked) through every retry."""

    exit_code = ExitCode.BUSY


class DamagedStore(Exception):
    """A row read from the log fails its hash-chain check or cannot be decoded: the command
    stops there (exit 3) instead of answering from, or spreading, damaged data."""

    exit_code = ExitCode.INTEGRITY
