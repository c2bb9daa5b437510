"""The command-line reference, generated from the commands themselves (as sqlite-utils does
with cog), so it can never drift from them; tests/test_help.py fails when docs/ is stale.

    python -m auditlog.cli.reference en > docs/cli-reference.md
    python -m auditlog.cli.reference id > docs/cli-reference.id.md
"""

import sys
from collections.abc import Iterator
from typing import Any

import typer

from auditlog import i18n
from auditlog.cli.language import translate_tree
from auditlog.cli.main import app
from auditlog.i18n import _


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _option_row(param: Any) -> str:
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    value = param.metavar or ""
    described: Any = getattr(param, "type_descriptor", None)
    if not value and getattr(described, "is_choice", False):
        value = "|".join(str(getattr(c, "value", c)) for c in described.choices or ())
    if param.param_type_name == "argument":
        names, value = f"`{param.metavar}`", ""
    notes = []
    if param.required:
        notes.append(_("required"))
    default = param.default
    if (param.param_type_name == "option" and not getattr(param, "is_flag", False)
            and default not in (None, (), []) and not callable(default)):
        notes.append(_("default: {value}").format(value=getattr(default, "value", default)))
    envvar = getattr(param, "envvar", None)
    if envvar:
        notes.append(_("env: {name}").format(name=envvar))
    help_text = _cell(getattr(param, "help", None) or "")
    if notes:
        help_text += f" ({'; '.join(notes)})"
    shown = f"`{value}`".replace("|", "\\|") if value else ""
    return f"| {names} | {shown} | {help_text.strip()} |"


def reference(lang: i18n.Lang) -> str:
    i18n.set_language(lang)
    root = typer.main.get_command(app)
    translate_tree(root)
    lines = [_("# auditlog command-line reference"), "",
             _("Generated from the code by `python -m auditlog.cli.reference`; do not edit."), ""]
    for path, command in _walk(root, ("auditlog",)):
        lines += [f"## {' '.join(path)}", ""]
        if command.help:
            lines += [command.help.strip(), ""]
        params = [p for p in command.params if getattr(p, "hidden", False) is False]
        if params:
            lines += [_("| option | value | meaning |"), "|---|---|---|"]
            lines += [_option_row(p) for p in params]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference(i18n.parse_lang(sys.argv[1] if len(sys.argv) > 1 else "en")))
