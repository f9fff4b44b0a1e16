"""No function in the package is over 60 lines (issue 13): a longer one is doing several
things, each of which wants a name."""

from __future__ import annotations

import ast
from pathlib import Path

import callcoach

MAX_LINES = 60  # from `def` to the function's last line, its docstring and comments included


def test_no_function_is_over_60_lines():
    package = Path(callcoach.__file__).parent
    too_long = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    too_long.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not too_long, "\n".join(too_long)
