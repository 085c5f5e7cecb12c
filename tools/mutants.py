"""Small, deliberate changes to a module's source ("mutants"), one at a time.

Each mutant is one edit a careless change could make and a good test should notice: a
comparison flipped at its boundary, a condition negated, `and`/`or` swapped, a number moved by
one, a boolean flipped, a string key renamed, a statement deleted, a returned value dropped, a
line deleted from a multi-line template (haproxy.cfg, keepalived.conf, scripts rendered from f-strings).
The operators work on the syntax tree and re-emit source with `ast.unparse`, so each mutant is
valid Python; docstrings, type annotations, imports and logging are left alone because changing
them changes no behaviour worth a test.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.Mult,
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    """One changed version of a module."""

    line: int
    """1-based line of the changed node in the original source."""
    description: str
    """What was changed, for the report (e.g. `'>' -> '>='`)."""
    source: str
    """The whole mutated module."""

    @property
    def key(self) -> str:
        """A stable identifier, used to mark a survivor as equivalent."""
        return f"{self.line}: {self.description}"


def _skipped_lines(tree: ast.Module) -> set[int]:
    """Lines not worth mutating: docstrings, bare annotations, imports, `if TYPE_CHECKING:` blocks."""
    skip: set[int] = set()

    def mark(node: ast.AST) -> None:
        start: int = getattr(node, "lineno", 0)
        end: int = getattr(node, "end_lineno", None) or start
        skip.update(range(start, end + 1))

    for node in ast.walk(tree):
        is_import = isinstance(node, ast.Import | ast.ImportFrom)
        # docstrings and the documentation strings under model fields
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        is_bare_annotation = isinstance(node, ast.AnnAssign) and node.value is None
        is_type_checking = isinstance(node, ast.If) and _is_type_checking(node.test)
        if is_import or is_doc or is_bare_annotation or is_type_checking:
            mark(node)
    return skip


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _edits(node: ast.AST, parent_is_annotation: bool, in_template: bool = False) -> Iterator[tuple[str, ast.AST]]:
    """The replacements for one node: (description, new node)."""
    if parent_is_annotation:
        return
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        if op in _COMPARE_SWAPS:
            compare = copy.deepcopy(node)
            compare.ops = [_COMPARE_SWAPS[op]()]
            yield f"{ast.unparse(node)} -> {ast.unparse(compare)}", compare
    elif isinstance(node, ast.BoolOp):
        boolop = copy.deepcopy(node)
        boolop.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield ("and -> or" if isinstance(node.op, ast.And) else "or -> and"), boolop
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
        binop = copy.deepcopy(node)
        binop.op = _BINOP_SWAPS[type(node.op)]()
        yield f"{ast.unparse(node)} -> {ast.unparse(binop)}", binop
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield f"not removed in {ast.unparse(node)}", copy.deepcopy(node.operand)
    elif isinstance(node, ast.Constant):
        yield from _constant_edits(node, in_template)
    elif isinstance(node, ast.JoinedStr):
        yield from _template_line_deletions(node)


def _template_line_deletions(node: ast.JoinedStr | ast.Constant) -> Iterator[tuple[str, ast.AST]]:
    """Each whole literal line of a multi-line template deleted (a dropped `user haproxy` is exactly the
    change a renderer test must notice). Lines holding a `{field}` are left alone, and so are comment
    lines (`#`: a comment in haproxy.cfg, keepalived.conf or a script); `n` counts lines from the
    template's first one, so two equal lines get distinct keys."""
    parts = node.values if isinstance(node, ast.JoinedStr) else [node]
    offset = 0
    for index, part in enumerate(parts):
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            continue
        segments = part.value.split("\n")
        # segments[0] and segments[-1] may continue a line that holds a field: only inner ones are whole lines
        for i in range(1, len(segments) - 1):
            if not segments[i].strip() or segments[i].strip().startswith("#"):
                continue
            kept = "\n".join(segments[:i] + segments[i + 1 :])
            new = copy.deepcopy(node)
            if isinstance(new, ast.JoinedStr):
                new.values[index] = ast.Constant(kept)
            else:
                new = ast.Constant(kept)
            yield f"deleted template line {offset + i}: {segments[i].strip()[:50]!r}", new
        offset += len(segments) - 1


def _constant_edits(node: ast.Constant, in_template: bool) -> Iterator[tuple[str, ast.AST]]:
    value = node.value
    if isinstance(value, bool):
        yield f"{value} -> {not value}", ast.Constant(not value)
    elif isinstance(value, int):
        yield f"{value} -> {value + 1}", ast.Constant(value + 1)
    elif isinstance(value, float):
        yield f"{value} -> {value * 2 or 1.0}", ast.Constant(value * 2 or 1.0)
    elif isinstance(value, str) and value and len(value) <= 60 and "\n" not in value:
        yield f"{value!r} -> {value + 'X'!r}", ast.Constant(value + "X")
    elif isinstance(value, str) and value.count("\n") >= 2 and not in_template:  # an f-string's part: done there
        yield from _template_line_deletions(node)


class _Replace(ast.NodeTransformer):
    """Replace the node `target` (by identity) with `new`."""

    def __init__(self, target: ast.AST, new: ast.AST) -> None:
        self.target, self.new = target, new

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return ast.copy_location(self.new, node)
        return super().generic_visit(node)


def _annotation_nodes(tree: ast.Module) -> set[int]:
    """ids of every node inside a type annotation (changing them changes no behaviour)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.AnnAssign | ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        for ann in annotations:
            if ann is not None:
                ids.update(id(sub) for sub in ast.walk(ann))
    return ids


def _statement_deletions(tree: ast.Module, skip: set[int]) -> Iterator[tuple[ast.stmt, str]]:
    """Statements whose deletion is a meaningful mutant: calls and assignments inside functions.

    A deleted statement becomes `pass`, so even a lone one in a block leaves valid code."""
    seen: set[int] = set()
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            for block in ("body", "orelse", "finalbody"):
                statements = getattr(node, block, None)
                if not isinstance(statements, list):
                    continue
                for stmt in statements:
                    if id(stmt) in seen or stmt.lineno in skip:
                        continue
                    seen.add(id(stmt))
                    call = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call | ast.Yield | ast.YieldFrom | ast.Await)
                    if call or isinstance(stmt, ast.Assign | ast.AugAssign):
                        yield stmt, f"deleted `{ast.unparse(stmt)[:60]}`"


def mutants(source: str) -> Iterator[Mutant]:
    """Every mutant of `source`, in source order of the changed node."""
    tree = ast.parse(source)
    skip = _skipped_lines(tree)
    in_annotation = _annotation_nodes(tree)
    in_template = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found: list[tuple[int, str, ast.AST, ast.AST]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or line in skip:
            continue
        for description, new in _edits(node, id(node) in in_annotation, id(node) in in_template):
            found.append((line, description, node, new))
    for stmt, description in _statement_deletions(tree, skip):
        found.append((stmt.lineno, description, stmt, ast.Pass()))
    found.sort(key=lambda item: (item[0], item[1], getattr(item[2], "col_offset", 0)))
    seen: dict[tuple[int, str], int] = {}
    for line, description, target, new in found:
        # The same change twice on one line (two `0`s, two equal keys): number them left to right so
        # each has its own key (an equivalent listed for one must not silence the other).
        n = seen[(line, description)] = seen.get((line, description), 0) + 1
        if n > 1:
            description = f"{description} (#{n})"
        yield Mutant(line=line, description=description, source=_apply(tree, target, new))


def _apply(tree: ast.Module, target: ast.AST, new: ast.AST) -> str:
    """Source of `tree` with `target` replaced by `new`; the original tree is left unchanged."""
    replaced = _Replace(target, new).visit(tree)
    try:
        return ast.unparse(ast.fix_missing_locations(replaced))
    finally:
        _Replace(new, target).visit(tree)  # put the original node back for the next mutant
