"""Compare two offline renders and describe the difference in Markdown (for pull-request comments).

    python -m tools.diff BASE_DIR HEAD_DIR [--title TEXT] [--max-chars N] [--out FILE] [--exit-code]

Each directory is what `python -m tools.render` wrote (plan.json and files/). A missing directory
or plan.json counts as an empty render, so a stack added or removed by the pull request still
diffs. Resources are matched by URN; "changed" means their inputs or options differ. Files under
files/ are shown as unified diffs. The output is deterministic and stays under --max-chars (a
GitHub comment holds about 65,000 characters); what does not fit is named, not silently dropped.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_CHARS = 60_000
MAX_FILE_DIFF_LINES = 400
MAX_TABLE_ROWS = 150
MAX_LISTED_KEYS = 8
OPTION_KEYS = (
    "parent",
    "depends_on",
    "provider",
    "protect",
    "delete_before_replace",
    "ignore_changes",
    "additional_secret_outputs",
)


@dataclass(frozen=True)
class Render:
    """One render directory, loaded: resources by URN, outputs, and file texts by relative path."""

    resources: dict[str, dict[str, Any]]
    outputs: dict[str, Any]
    files: dict[str, str]
    stack: str | None = None


@dataclass
class RenderDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], list[str], list[str]]] = field(default_factory=list)
    """(head resource, changed input paths, changed option names)."""
    outputs: list[tuple[str, str]] = field(default_factory=list)
    """(output name, "added" | "removed" | "changed")."""
    files: list[tuple[str, str]] = field(default_factory=list)
    """(relative path, "added" | "removed" | "changed")."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs or self.files)


def load_render(directory: Path) -> Render:
    plan_path = directory / "plan.json"
    if not plan_path.is_file():
        return Render({}, {}, {})
    plan = json.loads(plan_path.read_text())
    files: dict[str, str] = {}
    root = directory / "files"
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            files[path.relative_to(root).as_posix()] = path.read_text(errors="replace")
    resources = {r["urn"]: r for r in plan.get("resources", [])}
    return Render(resources, dict(plan.get("outputs") or {}), files, plan.get("stack"))


def changed_paths(old: Any, new: Any, prefix: str = "", depth: int = 3) -> Iterator[str]:
    """Dotted paths (at most `depth` levels deep) where two JSON values differ."""
    if old == new:
        return
    if depth > 0 and isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from changed_paths(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key), depth - 1)
        return
    yield prefix or "(value)"


def leaf_changes(old: Any, new: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, old, new) of every differing leaf; lists count as leaves."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from leaf_changes(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
        return
    yield prefix or "(value)", old, new


def compare(base: Render, head: Render) -> RenderDiff:
    result = RenderDiff()
    for urn in sorted(set(head.resources) - set(base.resources)):
        result.added.append(head.resources[urn])
    for urn in sorted(set(base.resources) - set(head.resources)):
        result.removed.append(base.resources[urn])
    for urn in sorted(set(base.resources) & set(head.resources)):
        old, new = base.resources[urn], head.resources[urn]
        inputs = list(changed_paths(old.get("inputs") or {}, new.get("inputs") or {}))
        options = [k for k in OPTION_KEYS if old.get(k) != new.get(k)]
        if inputs or options:
            result.changed.append((new, inputs, options))
    for name in sorted(set(base.outputs) | set(head.outputs)):
        if name not in base.outputs:
            result.outputs.append((name, "added"))
        elif name not in head.outputs:
            result.outputs.append((name, "removed"))
        elif base.outputs[name] != head.outputs[name]:
            result.outputs.append((name, "changed"))
    for path in sorted(set(base.files) | set(head.files)):
        if path not in base.files:
            result.files.append((path, "added"))
        elif path not in head.files:
            result.files.append((path, "removed"))
        elif base.files[path] != head.files[path]:
            result.files.append((path, "changed"))
    return result


def _code(text: str) -> str:
    """An inline code span that survives a Markdown table cell."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _keys(keys: list[str]) -> str:
    shown = ", ".join(_code(k) for k in keys[:MAX_LISTED_KEYS])
    more = len(keys) - MAX_LISTED_KEYS
    return shown + (f" and {more} more" if more > 0 else "")


def _short(value: Any) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if "\n" in text:
        return f"({text.count(chr(10)) + 1} lines of text)"
    return _code(text if len(text) <= 80 else text[:77] + "...")


def _value_details(diff: RenderDiff, base: Render) -> list[str]:
    """A collapsed list of old -> new values of the changed inputs (scripts appear in full under Files)."""
    rows: list[list[str]] = []
    for resource, _, _ in diff.changed:
        old_inputs = base.resources[resource["urn"]].get("inputs") or {}
        changes = list(leaf_changes(old_inputs, resource.get("inputs") or {}))
        for path, old, new in changes[:MAX_LISTED_KEYS]:
            rows.append([_code(resource["name"]), _code(path), _short(old), _short(new)])
        if len(changes) > MAX_LISTED_KEYS:
            rows.append([_code(resource["name"]), f"{len(changes) - MAX_LISTED_KEYS} more", "", ""])
    if not rows:
        return []
    table = _table(["resource", "input", "before", "after"], rows, "values")
    return ["<details><summary>Changed input values</summary>\n", *table, "</details>\n"]


def _table(header: list[str], rows: list[list[str]], what: str) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows[:MAX_TABLE_ROWS]]
    if len(rows) > MAX_TABLE_ROWS:
        lines.append(f"\n_{len(rows) - MAX_TABLE_ROWS} more {what} not listed._")
    return [*lines, ""]


def file_diff(path: str, old: str | None, new: str | None) -> str:
    """A fenced unified diff of one file (at most MAX_FILE_DIFF_LINES lines)."""
    lines = list(
        difflib.unified_diff(
            (old or "").splitlines(),
            (new or "").splitlines(),
            fromfile="/dev/null" if old is None else f"a/{path}",
            tofile="/dev/null" if new is None else f"b/{path}",
            lineterm="",
        )
    )
    note = ""
    if len(lines) > MAX_FILE_DIFF_LINES:
        note = f"\n_diff of {path} cut after {MAX_FILE_DIFF_LINES} of {len(lines)} lines._\n"
        lines = lines[:MAX_FILE_DIFF_LINES]
    body = "\n".join(lines)
    fence = _fence(body)
    return f"{fence}diff\n{body}\n{fence}\n{note}"


def _summary(diff: RenderDiff) -> str:
    counts = {s: sum(1 for _, st in diff.files if st == s) for s in ("added", "removed", "changed")}
    return (
        f"**Resources:** {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed. "
        f"**Files:** {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed. "
        f"**Outputs:** {len(diff.outputs)} changed."
    )


def _resource_sections(diff: RenderDiff, base: Render) -> list[str]:
    out: list[str] = []
    for title, items in (("added", diff.added), ("removed", diff.removed)):
        if items:
            out.append(f"### Resources {title} ({len(items)})\n")
            rows = [[_code(r["name"]), _code(r["type"]), _code(r["urn"])] for r in items]
            out += _table(["name", "type", "URN"], rows, "resources")
    if diff.changed:
        out.append(f"### Resources changed ({len(diff.changed)})\n")
        rows = [
            [_code(r["name"]), _code(r["type"]), _keys(inputs) or "-", _keys(options) or "-"]
            for r, inputs, options in diff.changed
        ]
        out += _table(["name", "type", "changed inputs", "changed options"], rows, "resources")
        out += _value_details(diff, base)
    if diff.outputs:
        out.append(f"### Outputs ({len(diff.outputs)})\n")
        out += _table(["output", "change"], [[_code(n), s] for n, s in diff.outputs], "outputs")
    return out


def render_markdown(
    base: Render, head: Render, title: str | None = None, max_chars: int = DEFAULT_MAX_CHARS
) -> str:
    """The whole comment: summary, resource tables, then file diffs while they fit in `max_chars`."""
    diff = compare(base, head)
    stack = head.stack or base.stack
    heading = title or (f"Render diff for stack `{stack}`" if stack else "Render diff")
    parts = [f"## {heading}\n", _summary(diff) + "\n"]
    if diff.empty:
        parts.append("No differences: this change does not alter what the stack deploys.\n")
        return "\n".join(parts)
    parts += _resource_sections(diff, base)
    header = "\n".join(parts)
    reserve = 600  # room for the note on what was left out
    budget = max(0, max_chars - len(header) - reserve)
    shown: list[str] = []
    skipped: list[str] = []
    if diff.files:
        shown.append(f"### Files ({len(diff.files)})\n")
    for path, status in diff.files:
        block = f"#### {_code(path)} ({status})\n\n" + file_diff(path, base.files.get(path), head.files.get(path))
        if len(block) + 1 <= budget:
            shown.append(block)
            budget -= len(block) + 1
        else:
            skipped.append(path)
    text = header + "\n" + "\n".join(shown)
    if skipped:
        names = ", ".join(_code(p) for p in skipped[:20]) + (f" and {len(skipped) - 20} more" if len(skipped) > 20 else "")
        note = (
            f"\n_Truncated: {len(skipped)} file diff(s) did not fit in this comment ({names}). "
            "Run `python -m tools.render` on both commits and `python -m tools.diff` locally for the full diff._\n"
        )
        text += note
    if len(text) > max_chars:  # only when the tables alone are larger than the budget
        cut = "\n\n_Truncated: the comment size limit was reached; run `python -m tools.diff` locally._\n"
        text = text[: max_chars - len(cut)] + cut
    return text


def diff_dirs(base_dir: Path, head_dir: Path, title: str | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    return render_markdown(load_render(base_dir), load_render(head_dir), title, max_chars)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diff", description=__doc__.split("\n")[0])
    parser.add_argument("base", type=Path, help="render directory of the base commit")
    parser.add_argument("head", type=Path, help="render directory of the head commit")
    parser.add_argument("--title", help="heading of the Markdown document")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="upper bound on the output size")
    parser.add_argument("--out", type=Path, help="write the Markdown here instead of standard output")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when the renders differ")
    args = parser.parse_args(argv)
    for directory in (args.base, args.head):
        if directory.exists() and not directory.is_dir():
            print(f"error: {directory}: not a directory", file=sys.stderr)
            return 2
    base, head = load_render(args.base), load_render(args.head)
    text = render_markdown(base, head, args.title, args.max_chars)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 1 if args.exit_code and not compare(base, head).empty else 0


if __name__ == "__main__":
    sys.exit(main())
