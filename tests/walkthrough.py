"""Run the Markdown walkthroughs under cli/: every `$ ` command runs, its output must match.

In a ```console block, a line `$ auditlog ...` is a command and the lines up to the next `$ `
are what it prints (stdout, then stderr, then `[exit N]` when N is not 0). A command may start
with VAR=value assignments (AUDITLOG_NOW=... to record at another moment). Lines that are not
auditlog commands (echo ... > file) run in a shell, to make evidence files.

    python tests/walkthrough.py --update cli/*.md   # rewrite the outputs after a change
"""

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from auditlog.cli.main import app

BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass
class Step:
    command: str
    expected: str
    start: int  # offset of the block body in the file
    end: int


def steps(text: str) -> Iterator[Step]:
    for block in BLOCK.finditer(text):
        body = block.group(1)
        command: str | None = None
        lines: list[str] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    yield Step(command, "\n".join(lines), block.start(1), block.end(1))
                command, lines = line[2:], []
            else:
                lines.append(line)
        if command is not None:
            yield Step(command, "\n".join(lines), block.start(1), block.end(1))


def tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def execute(command: str, cwd: Path) -> str:
    words = shlex.split(command)
    env: dict[str, str] = {}
    while words and ASSIGNMENT.match(words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    if not words or words[0] != "auditlog":
        done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True,
                              check=False)
        return tidy(done.stdout + done.stderr)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = CliRunner().invoke(app, words[1:], catch_exceptions=False)
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
    out = tidy(result.stdout)
    err = tidy(result.stderr)
    text = "\n".join(part for part in (out, err) if part)
    if result.exit_code:
        text += ("\n" if text else "") + f"[exit {result.exit_code}]"
    return text


def language_of(path: Path) -> str:
    """cli/id/*.md are the Indonesian walkthroughs, run as with LANG=id_ID.UTF-8."""
    return "id" if path.parent.name == "id" else "en"


def run_walkthrough(path: Path, cwd: Path) -> list[tuple[str, str, str]]:
    """(command, expected, actual) for every step, in order."""
    os.chdir(cwd)
    os.environ["AUDITLOG_LANG"] = language_of(path)
    os.environ["AUDITLOG_DB"] = "auditlog.db"  # relative, so printed paths are the same anywhere
    return [(s.command, tidy(s.expected), execute(s.command, cwd))
            for s in steps(path.read_text())]


def update(path: Path, cwd: Path) -> None:
    text = path.read_text()
    os.chdir(cwd)
    os.environ["AUDITLOG_LANG"] = language_of(path)
    out: list[str] = []
    position = 0
    for block in BLOCK.finditer(text):
        out.append(text[position:block.start(1)])
        body = []
        for step in steps(block.group(0)):
            actual = execute(step.command, cwd)
            body.append(f"$ {step.command}" + (f"\n{actual}" if actual else ""))
        out.append("\n".join(body) + "\n")
        position = block.end(1)
    out.append(text[position:])
    path.write_text("".join(out))


if __name__ == "__main__":
    import tempfile

    args = sys.argv[1:]
    if not args or args[0] != "--update":
        sys.exit("usage: python tests/walkthrough.py --update cli/NAME.md ...")
    for name in [str(Path(a).resolve()) for a in args[1:]]:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["AUDITLOG_DB"] = "auditlog.db"
            os.environ["AUDITLOG_WITNESS"] = os.path.join(tmp, "witness")  # never the home
            os.environ.setdefault("AUDITLOG_NOW", "2024-01-15T09:00:00+00:00")
            os.environ.setdefault("AUDITLOG_STORE_ID", "3f2c8a1e-5b7d-4e9a-8c6f-1d2e3a4b5c6d")
            os.environ["AUDITLOG_ACTOR"] = "auditor"
            os.environ["TZ"] = "UTC"
            os.environ["COLUMNS"] = "200"
            update(Path(name), Path(tmp))
            os.chdir(Path(name).parent)
            print(f"updated {name}")
