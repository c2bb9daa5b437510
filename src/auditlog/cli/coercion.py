"""Option values checked without pydantic where Typer would build a TypeAdapter for them.

Typer 0.29 coerces every option that reaches a command (the global --db and --lang
included) through a pydantic TypeAdapter, built on first use: importing pydantic and building
the adapters costs more than a whole `auditlog status` answered from the projection. For the
options whose value is plain text, a flag already true or false, or one of a fixed set of
choices, what the adapter does on success is to hand back the value, or the choice Typer's own
``coerce_cli_choice`` picks: that is done here directly. Anything else, and every value that
would be refused, goes to Typer's own coercion, so each refusal reads exactly as Typer words it.
"""

from dataclasses import dataclass
from typing import Any

from typer._click import Context
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_choice


@dataclass(frozen=True)
class PlainParam(RuntimeParam):
    """Text and choices as Typer's adapter would return them; the rest to Typer itself."""

    descriptor: TypeDescriptor

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
    """Every plain option of the command and its subcommands, coerced without pydantic.

    Duck-typed, like language.translate_tree: Typer's Click classes are not public."""
    for param in command.params:
        _install(param)
    make = command.get_help_option

    def get_help_option(ctx: Any) -> Any:  # made when first asked for, a flag like the rest
        option = make(ctx)
        if option is not None:
            _install(option)
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        coerce_plainly(sub)


def _install(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if (descriptor is not None and getattr(param, "_runtime_param", "") is None
            and _plain(descriptor)):
        param._runtime_param = PlainParam(parameter_info=descriptor.parameter_info,
                                          annotation=descriptor.annotation,
                                          descriptor=descriptor)
