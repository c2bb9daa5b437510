"""A Babel extraction method: the messages Babel's Python extractor finds, plus the docstrings
of Typer commands, which Typer shows as their help (babel.cfg names this method).

Commands keep their help where Python readers expect it, in the docstring; the docstring,
cleaned as Typer cleans it, is the message id that cli/language.py translates.
"""

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python


def _is_command(node: ast.FunctionDef) -> bool:
    """Decorated with something.command(...) or something.callback(...)."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ("command", "callback"):
            return True
    return False


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
            options: Any) -> Iterator[Any]:
    """Babel's extraction method protocol: (line, function name, message, comments)."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and _is_command(node):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, None, doc, []
