"""Option values checked without pydantic where Typer would build a TypeAdapter for them.

Typer 0.29 coerces every option that reaches a command (the global --db and --lang
included) through a pydantic TypeAdapter, built on first use: importing pydantic and building
the adapters costs more than a whole `auditlog status` answered from the projection. For the
options whose value is plain text, a flag already true or false, or one of a fixed set of
choices, what the adapter does on success is to hand back the value, or the choice Typer's own
``coerce_cli_choice`` picks: that is done here directly. Anything else, and every value that
would be refused, goes to Typer's own coercion, so each refusal reads exactly as Typer words it.
"""

from typing import Any

from typer._click import Context
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice


class PlainParam(RuntimeParam):
    """Text and choices as Typer's adapter would return them; the rest to Typer itself.

    Not a dataclass of its own (making one costs a start-up more than this whole module)."""

    descriptor: TypeDescriptor

    def __init__(self, descriptor: TypeDescriptor) -> None:
        # RuntimeParam is a frozen dataclass: its fields are set as its own __init__ does.
        object.__setattr__(self, "parameter_info", descriptor.parameter_info)
        object.__setattr__(self, "annotation", descriptor.annotation)
        object.__setattr__(self, "descriptor", descriptor)

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        if self.annotation is str and isinstance(value, str):
            return value
        if self.annotation is bool and isinstance(value, bool):
            return value
        choices = self.descriptor.choices
        if choices is not None and isinstance(value, str):
            try:
                return coerce_cli_choice(value, choices=choices,
                                         case_sensitive=self.descriptor.case_sensitive, ctx=ctx)
            except ValueError:
                pass  # refused: by Typer's adapter, in Typer's words
        return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


def _plain(descriptor: TypeDescriptor) -> bool:
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or descriptor.is_list or descriptor.is_tuple:
        return False
    if info.parser is not None:
        return False
    return descriptor.annotation in (str, bool) or descriptor.choices is not None


def coerce_plainly(command: Any) -> None:
    """The plain options of the command and its subcommands coerced without pydantic: each
    command's when it parses its arguments (its --help option is made only then), so a run
    pays for the command it runs, not for the whole tree.

    Duck-typed, like language.translate_tree: Typer's Click classes are not public."""
    parse = command.parse_args

    def parse_args(ctx: Any, args: list[str]) -> list[str]:
        for param in command.get_params(ctx):
            _install(param)
        return parse(ctx, args)  # type: ignore[no-any-return]

    command.parse_args = parse_args
    for sub in getattr(command, "commands", {}).values():
        coerce_plainly(sub)


def _install(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if (descriptor is not None and getattr(param, "_runtime_param", "") is None
            and _plain(descriptor)):
        param._runtime_param = PlainParam(descriptor)
