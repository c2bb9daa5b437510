"""The cli/ walkthroughs are documentation that runs: their outputs must be what users see."""

from pathlib import Path

import pytest

from walkthrough import run_walkthrough

CLI_DOCS = Path(__file__).resolve().parent.parent / "cli"
# cli/*.md in English, cli/id/*.md in Indonesian (run as with LANG=id_ID.UTF-8)
WALKTHROUGHS = sorted([*CLI_DOCS.glob("*.md"), *CLI_DOCS.glob("id/*.md")])


def test_there_are_walkthroughs() -> None:
    assert len(WALKTHROUGHS) >= 2


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=lambda p: str(p.relative_to(CLI_DOCS)))
def test_walkthrough_output_matches(path: Path, tmp_path: Path) -> None:
    steps = run_walkthrough(path, tmp_path)
    assert steps, f"{path.name} has no commands"
    for command, expected, actual in steps:
        assert actual == expected, (
            f"{path.name}: `{command}` printed something else "
            "(run python tests/walkthrough.py --update to refresh after a deliberate change)"
            f"\n--- expected\n{expected}\n--- actual\n{actual}"
        )
