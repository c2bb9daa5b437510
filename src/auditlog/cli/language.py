"""The command line in the user's language: `--lang`, and help texts translated when shown.

Help texts are written once, in English, marked with N_() so Babel extracts them; Typer reads
them at import time, before anyone chose a language. So the root command, when it starts,
chooses the language (the `--lang` it is given, else AUDITLOG_LANG or the locale) and
translates every help text of the command tree in place, before Click parses or prints
anything. Typer builds a fresh tree for every run, so a text is never translated twice.
"""

import re
import sys
from collections.abc import Sequence
from functools import cache
from typing import Any

import typer
from typer.core import TyperGroup

from auditlog import i18n
from auditlog.i18n import N_, _


def _asked_language(args: Sequence[str]) -> i18n.Lang | None:
    """The --lang among the global options (before the command), if it names a language."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            return None  # the command: the global options are behind us
        else:
            continue
        try:
            return i18n.parse_lang(value)
        except i18n.UnknownLanguage:
            return None  # Click refuses it with a usage error when it parses the option
    return None


def _translate(text: str | None) -> str | None:
    return _(text) if text else text


# What each option's value is, shown in help instead of Typer's <str>; an option declared
# with its own metavar keeps it (--to is a DATE for replay, a FILE for export).
METAVARS = {
    "--on": "DATE", "--received": "DATE", "--issued": "DATE", "--due": "DATE",
    "--as-of": "DATE", "--known-at": "TIMESTAMP", "--deposit": "RUPIAH", "--value": "RUPIAH",
    "--rec-value": "RUPIAH", "--pemda": "CODE", "--province": "CODE", "--code": "CODE",
    "--rec-code": "CODE", "--finding": "REF", "--because": "REF", "--status": "STATUS",
    "--reason": "TEXT", "--action": "TEXT", "--title": "TEXT", "--recommendation": "TEXT",
    "--condition": "TEXT", "--criteria": "TEXT", "--cause": "TEXT", "--effect": "TEXT",
    "--year": "YYYY", "--instrument": "NAME", "--opd": "NAME", "--report": "NUMBER",
    "--name": "NAME", "--level": "LEVEL", "--grade": "GRADE", "--score": "SCORE",
    "--rule": "VERSION", "--db": "TARGET", "--actor": "NAME", "--evidence": "FILE",
    "--slip": "NUMBER", "--field": "FIELD", "--to": "FILE", "--checkpoint": "FILE",
    "--key": "FILE", "--sign": "FILE", "--sheet": "NAME", "--mapping": "FILE",
    "--template": "FILE", "--theme": "THEME", "--text": "TEXT", "--owner": "NAME",
    "--by": "DATE", "--indicator": "TEXT", "--unit": "UNIT", "--baseline": "NUMBER",
    "--target": "NUMBER", "--answers": "REF", "--note": "TEXT",
}

ARGUMENTS = {"ref": "REF", "rec": "REF", "code": "CODE"}


def translate_tree(command: Any) -> None:
    """Every help text of the command and its subcommands, in the chosen language, and a
    metavar that says what to type for every option that takes a value.

    Duck-typed: Typer ships its own copy of Click, whose classes are not public."""
    for name in ("help", "short_help", "epilog"):
        setattr(command, name, _translate(getattr(command, name, None)))
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _(param.help)
        if param.metavar is None and getattr(param, "param_type_name", "") == "option":
            if getattr(param, "is_flag", False):
                param.metavar = ""  # a flag takes no value: no <bool>
            else:
                longest = max(param.opts, key=len)
                param.metavar = METAVARS.get(longest, param.metavar)
        if getattr(param, "param_type_name", "") == "argument":
            param.metavar = param.metavar or ARGUMENTS.get(param.name, param.name.upper())
            # The name column already says what to type (REF); Typer would add <str>.
            param.display_type_rich = lambda ctx: None
    _translate_help_option(command)
    command.context_class = _localised_context(command.context_class)
    for sub in getattr(command, "commands", {}).values():
        translate_tree(sub)


@cache
def _localised_context(base: Any) -> Any:
    """Click writes the first word of every help, "Usage: ", as a literal: a context whose
    help formatter asks the catalog for it instead."""
    class Formatter(base.formatter_class):  # type: ignore[misc]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

    class Context(base):  # type: ignore[misc]
        formatter_class = Formatter

    return Context


def _translate_help_option(command: Any) -> None:
    """Click makes each command's --help option when it is first asked for: translate its
    help then."""
    make = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None and option.help in TYPER_HELP:
            option.help = _(option.help)
        return option

    command.get_help_option = get_help_option


# The help Typer gives its own options (--help, --install-completion, --show-completion),
# marked here so that Babel extracts it; translate_tree translates it with the rest.
TYPER_HELP = (N_("Show this message and exit."), N_("Install completion for the current shell."),
              N_("Show completion for the current shell, to copy it or customize the "
                 "installation."))

# The words Typer itself prints around our help; rich_utils reads these module constants each
# time it renders, so setting them speaks the chosen language there too.
TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"), "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"), "ERRORS_PANEL_TITLE": N_("Error"),
    "REQUIRED_LONG_STRING": N_("[required]"), "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
}


def _typer_speaks() -> None:
    # Typer loads rich_utils (and rich with it, a tenth of a second) only to draw help or an
    # error; in English its words are already right, so an English run that has not loaded
    # it (`--version`, every command) leaves it unloaded.
    if i18n.language() == "en" and "typer.rich_utils" not in sys.modules:
        return
    from typer import rich_utils

    for name, text in TYPER_WORDS.items():
        setattr(rich_utils, name, _(text))


class LocalisedGroup(TyperGroup):
    def main(self, args: Sequence[str] | None = None, *more: Any, **extra: Any) -> Any:
        given = list(sys.argv[1:] if args is None else args)
        try:
            i18n.set_language(_asked_language(given))
        except i18n.UnknownLanguage:  # a bad AUDITLOG_LANG: Click refuses it as --lang's
            i18n.set_language("en")
        _typer_speaks()
        translate_tree(self)
        return super().main(given, *more, **extra)


def choose_language(value: str | None) -> str | None:
    """The --lang callback: the option is checked (and AUDITLOG_LANG with it) by Click."""
    if value is None:
        i18n.set_language(None)
        return None
    try:
        i18n.set_language(i18n.parse_lang(value))
    except i18n.UnknownLanguage:
        raise typer.BadParameter(_("language {text!r} is not available: use one of "
                                   "{choices}").format(
            text=value, choices=", ".join(i18n.LANGUAGES))) from None
    return value


# Click's usage errors (Typer's copy of Click words them in English, without gettext): the
# one line the console script prints is rebuilt from these, each part translated. A message
# no pattern knows is printed as Click wrote it. Patterns as text, compiled (and cached by re)
# only when a usage error is worded: every start would otherwise compile them all.
_USAGE: tuple[tuple[str, str], ...] = (
    (r"No such option: (?P<name>\S+)", N_("No such option: {name}")),
    (r"No such command (?P<name>.+)", N_("No such command {name}")),
    (r"Missing command", N_("Missing command")),
    (r"Missing argument (?P<name>.+)", N_("Missing argument {name}")),
    (r"Missing option (?P<name>.+)", N_("Missing option {name}")),
    (r"Missing parameter:? (?P<name>.+)", N_("Missing parameter {name}")),
    (r"Option (?P<name>'[^']+') requires an argument", N_("Option {name} requires an argument")),
    (r"Option (?P<name>'[^']+') requires (?P<n>\d+) arguments",
     N_("Option {name} requires {n} arguments")),
    (r"Option (?P<name>'[^']+') does not take a value", N_("Option {name} does not take a value")),
    (r"Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)",
     N_("Got unexpected extra argument(s) ({args})")),
    (r"Invalid value for (?P<name>.+?)(?: \(env var: (?P<env>'[^']+')\))?: (?P<detail>.+)",
     N_("Invalid value for {name}: {detail}")),
    (r"Invalid value: (?P<detail>.+)", N_("Invalid value: {detail}")),
    (r"Value error, (?P<detail>.+)", "{detail}"),
    (r"(?P<value>'.*') is not one of (?P<choices>.+)", N_("{value} is not one of {choices}")),
    (r"Value (?P<value>.+) is not a valid (?P<label>.+)", N_("{value} is not a valid {label}")),
    (r"Input should be a valid integer.*", N_("give a whole number such as 14")),
    (r"Input should be a valid number.*", N_("give a number such as 80.5")),
)
_POSSIBLE = r"(?P<message>.+) \(Possible options: (?P<options>.+)\)"


def usage_message(text: str) -> str:
    """Click's English usage error, one line without its final full stop, in the chosen
    language."""
    text = " ".join(text.split()).rstrip(".")
    possible = re.fullmatch(_POSSIBLE, text)
    if possible:
        return usage_message(possible["message"]) + _(" (Possible options: {options})").format(
            options=possible["options"])
    for pattern, message in _USAGE:
        found = re.fullmatch(pattern, text)
        if found:
            parts = found.groupdict()
            if parts.get("detail") is not None:
                parts["detail"] = usage_message(parts["detail"])
            if parts.get("env"):
                parts["name"] += _(" (env var {name})").format(name=parts["env"])
            return _(message).format(**parts) if message != "{detail}" else parts["detail"]
    return text
