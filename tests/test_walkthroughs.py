"""The cli/ walkthroughs are documentation that runs: their outputs must be what users see."""

from pathlib import Path

import pytest

from walkthrough import run_walkthrough

CLI_DOCS = Path(__file__).resolve().parent.parent / "cli"
WALKTHROUGHS = sorted(CLI_DOCS.glob("*.md"))


def test_there_are_walkthroughs() -> None:
    assert len(WALKTHROUGHS) >= 2


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=lambda p: p.name)
def test_walkthrough_output_matches(path: Path, tmp_path: Path) -> None:
    steps = run_walkthrough(path, tmp_path)
    assert steps, f"{path.name} has no commands"
    for command, expected, actual in steps:
        assert actual == expected, (
            f"{path.name}: `{command}` printed something else "
            "(run python tests/walkthrough.py --update to refresh after a deliberate change)"
            f"\n--- expected\n{expected}\n--- actual\n{actual}"
        )
