"""The garbage collector paused while the command line starts, resumed when a command runs.

Loading the command modules and building Typer's command tree allocate tens of thousands of
objects and free almost none of them: every collection the collector starts meanwhile walks
them all and finds nothing (some 40 collections, a tenth of a start-up). So it is paused while
cli/main.py loads its modules and while main() builds the tree and parses, and resumed as soon
as a command runs (cli/app.py: AuditGroup.invoke), so no command runs without it. `--version`,
`--help` and a usage error end before that, having freed nothing worth collecting.

cli/main.py imports this module first of auditlog's and pauses the collector before the
others; Typer is loaded before that, with the collector running, as any Typer program loads it.
Importing cli/main.py leaves the collector as it found it.
"""

import gc

_paused: list[bool] = []  # whether pause() disabled a collector that was running


def pause() -> None:
    if gc.isenabled():
        gc.disable()
        _paused.append(True)


def resume(*, freeze: bool = False) -> None:
    """Undo pause(); a collector someone else had disabled stays disabled.

    ``freeze``: as a command starts, what start-up made (modules, the command tree) lives to
    the end of the process, so it goes to the permanent generation: otherwise, never having
    been collected, all of it would be walked by the command's first collections."""
    if _paused:
        _paused.clear()
        if freeze:
            gc.freeze()
        gc.enable()

