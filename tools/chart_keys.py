"""List the value keys a Helm chart reads, as dotted paths, from an unpacked chart directory.

    python -m tools.chart_keys DIR [--python FILE ...]

DIR is a chart (`helm pull --untar`, or the chart folder of its source repository at the pinned tag).
Reads every template (`templates/**`): absolute references (`.Values.a.b`, `$.Values.a.b`,
`index .Values "a" "b"`), references relative to `with`/`range` over a values path, and whole subtrees
handed on (`toYaml`, `tpl`, `omit`, `with ... toYaml .`, `range $k, $v := ...`), written `a.b.*`. What a
named template (`define`) reads of an argument it is given is not followed: add such keys by hand.
`--python` adds the keys a Python file shipped with the chart reads through `get_config("a.b")`
(Zero to JupyterHub's hub configuration).

The output is the data kept in `components/common/chart_keys/` (only key names, nothing of the chart):
review it, add what a template reads in ways this scan cannot see, and note why beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_ABSOLUTE = re.compile(r"\$?\.Values((?:\.[A-Za-z0-9_-]+)+)")
_INDEX = re.compile(r'index\s+\$?\.Values((?:\s+"[^"]+")+)')
_RELATIVE = re.compile(r'(?<![\w$)\]])\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)')
_REF = r"(\$?\.Values(?:\.[A-Za-z0-9_-]+)+|\.)"
# A subtree handed on whole: rendered (`toYaml`, `tpl`), copied into a spec (`omit`, `pick`, `deepCopy`...),
# piped into one of those, or iterated with its keys (`range $k, $v := ...`).
_WHOLE = re.compile(
    r"(?:toYaml|toJson|tpl|omit|pick|deepCopy|merge|mergeOverwrite)\s*\(?\s*" + _REF
    + r"|" + _REF + r"\s*\|\s*(?:toYaml|toJson|tpl)\b"
    + r"|range\s+\$\w+\s*,\s*\$\w+\s*:=\s*" + _REF
)
_GET_CONFIG = re.compile(r'get_config\(\s*"([^"]+)"')
_BLOCK_OVER_VALUES = re.compile(r"^(with|range)\s+(\$\w+\s*(,\s*\$\w+\s*)?:=\s*)?\$?\.Values[\w.-]*\s*$")
_GET_CONFIG_ITEMS = re.compile(r'get_config\(\s*"([^"]+)"[^)]*\)\.items\(\)')
_SET_CONFIG = re.compile(r'set_config_if_not_none\(\s*[^,]+,\s*"[^"]+",\s*"([^"]+)"')
# `for trait, cfg_key in (("trait", None | "key"), ...): set_config_if_not_none(c.X, trait, "prefix." + cfg_key)`
_TRAIT_LOOP = re.compile(
    r"for trait, cfg_key in \((.*?)\):.*?set_config_if_not_none\([^,]+,\s*trait,\s*\"([^\"]+)\"\s*\+\s*cfg_key", re.S
)
_TRAIT = re.compile(r'^\s*\("(\w+)",\s*(?:None|"([^"]+)")\)', re.M)
_OPENS = ("if", "with", "range", "define", "block")
_BUILTIN_ROOTS = {"Values", "Release", "Chart", "Capabilities", "Template", "Files"}


def _values_path(ref: str) -> str:
    return re.sub(r"^\$?\.Values\.?", "", ref)


def template_keys(text: str) -> set[str]:
    """Keys one template reads."""
    keys: set[str] = set()
    stack: list[str | None] = []  # the values path `.` stands for inside each open block (None: unknown)

    def context() -> str | None:
        for item in reversed(stack):
            if item != "":
                return item
        return None

    for match in _ACTION.finditer(text):
        action = match.group(1).strip()
        if action.startswith("/*"):
            continue
        keys |= {_values_path(m.group(0)) for m in _ABSOLUTE.finditer(action)}
        for m in _INDEX.finditer(action):
            keys.add(".".join(re.findall(r'"([^"]+)"', m.group(1))))
        for m in _WHOLE.finditer(action):
            ref = next(g for g in m.groups() if g)
            if ref == ".":
                if context():
                    keys.add(f"{context()}.*")
            else:
                keys.add(f"{_values_path(ref)}.*")
        word = action.split(None, 1)[0] if action else ""
        here = context()
        if here and word not in ("define", "block", "template"):
            for m in _RELATIVE.finditer(_ABSOLUTE.sub("", action)):
                if m.group(1).split(".")[0] not in _BUILTIN_ROOTS:
                    keys.add(f"{here}.{m.group(1)}")
        if word in ("with", "range"):
            # Only `with .Values.a.b` / `range [$i, $v :=] .Values.a.b` make `.` a values path.
            refs = _ABSOLUTE.findall(action) if _BLOCK_OVER_VALUES.match(action) else []
            if refs:
                path = refs[-1].lstrip(".")
                stack.append(path if word == "with" else f"{path}.*")
            elif here and (rel := _RELATIVE.search(action)):
                stack.append(f"{here}.{rel.group(1)}" + (".*" if word == "range" else ""))
            else:
                stack.append(None)
        elif word in _OPENS:
            stack.append(None if word in ("define", "block") else "")
        elif word == "end" and stack:
            stack.pop()
    return {k.replace(".*.", ".").rstrip(".") for k in keys if k}


def chart_keys(chart: Path, python_files: list[Path]) -> list[str]:
    keys: set[str] = set()
    for path in sorted((chart / "templates").rglob("*")):
        if path.is_file():
            keys |= template_keys(path.read_text(errors="replace"))
    for path in python_files:
        keys |= python_keys(path.read_text())
    return sorted(keys)


def _camel(trait: str) -> str:
    first, *rest = trait.split("_")
    return first + "".join(word.capitalize() for word in rest)


def python_keys(text: str) -> set[str]:
    """Keys a chart's Python configuration reads with `get_config` (and its trait loops)."""
    keys = set(_GET_CONFIG.findall(text)) | set(_SET_CONFIG.findall(text))
    keys |= {f"{key}.*" for key in _GET_CONFIG_ITEMS.findall(text)}
    for block, prefix in _TRAIT_LOOP.findall(text):
        keys |= {prefix + (key or _camel(trait)) for trait, key in _TRAIT.findall(block)}
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chart", type=Path)
    parser.add_argument("--python", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    if not (args.chart / "templates").is_dir():
        print(f"error: {args.chart}: not a chart directory (no templates/)", file=sys.stderr)
        return 2
    json.dump(chart_keys(args.chart, args.python), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ---- checking values against the kept data ----

DATA = Path(__file__).resolve().parent.parent / "components" / "common" / "chart_keys"


def load_data(chart: str, version: str) -> dict[str, Any] | None:
    """The kept key list of one pinned chart, or None when there is none for this version."""
    path = DATA / f"{chart}-{version}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def value_paths(values: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every value set: maps are walked, anything else (lists too) is one value."""
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from value_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif prefix:
        yield prefix


def is_read(path: str, keys: set[str]) -> bool:
    """The chart reads this value: the key itself, or a subtree it hands on whole (`a.b.*`)."""
    parts = path.split(".")
    return path in keys or any(".".join(parts[:i]) + ".*" in keys for i in range(1, len(parts) + 1))


def unread_values(data: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """Every problem with these values for this chart: keys it never reads, conditions it renders them under."""
    keys = set(data["keys"])
    chart = f"{data['chart']} {data['version']}"
    problems = [f"{path}: not read by {chart}" for path in value_paths(values) if not is_read(path, keys)]
    for key, condition in data.get("conditions", {}).items():
        node: Any = values
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and condition["contains"] not in json.dumps(node):
            problems.append(f"{key}: ignored unless it contains {condition['contains']!r} ({condition['why']})")
    return sorted(problems)
