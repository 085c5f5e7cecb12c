"""Turn pydantic's validation errors into messages a person can act on.

pydantic locates errors with its own internals mixed into the path (union tags such as
`generic-oauth`, `str`, `dict[str,constrained-int]`, `function-after[...]`) and words them for
programmers (`String should match pattern '^[a-z0-9]...$'`). Here the path keeps only the keys and
indexes that are in the stack file, each message says what is allowed with an example (never a
regular expression), and the errors of a union's branches at one place become one error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from config.errors import ConfigIssue

_K8S_NAME = "lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit"
# What each `Field(pattern=...)` of the models allows, keyed by the pattern itself.
PATTERN_HINTS: dict[str, str] = {
    r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$": f"must be a Kubernetes name: {_K8S_NAME}, e.g. jhub-teaching",
    r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$": "must be a Kubernetes resource name: lower-case letters, digits, '-' "
    "and '.', starting and ending with a letter or digit, e.g. local-ssd",
    r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$": "must be a short name: lower-case letters, digits and '-', at most 20, "
    "starting with a letter, e.g. teaching",
    r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$": "must be a slug: lower-case letters, digits and '-', at most 32, e.g. gpu-large",
    r"^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$": "must be a folder name: lower-case letters, digits and '-', at most 30, "
    "e.g. datasets",
    r"^root(\.[A-Za-z0-9_:#/@-]{1,64})+$": "must be the full path of a YuniKorn leaf queue, e.g. root.students",
    r"^[A-Za-z0-9_.:@-]{1,15}$": "must be a network interface name (at most 15 characters), e.g. eth0",
    r"^all-[0-9a-z.]+$": "must be a named MIG layout like all-1g.10gb or all-balanced, or a map of profile: count "
    "per GPU like {1g.10gb: 7}",
    r"^\d+\.\d+\.\d+$": 'must be an exact version like 1.18.0 (in quotes: "1.18.0")',
    r"^[0-9]+(Mi|Gi|Ti|Pi)$": "must be a size with a binary unit, e.g. 500Gi or 10Ti",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', "
    "e.g. platform-contracts",
    r"^[a-z0-9-]{2,32}$": "must be a region name like us-east-1",
    r"^(([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$": (
        "must be a DNS name like k8s-api.example.org or an IPv4 address (no scheme, no port)"
    ),
}
_KINDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping of key: value",
    "model_type": "a mapping of key: value",
    "model_attributes_type": "a mapping of key: value",
    "dataclass_type": "a mapping of key: value",
    "none_required": "empty",
}
_URL_ERRORS = ("url_parsing", "url_scheme", "url_type", "url_syntax_violation", "url_too_long")
_PLAIN_PART = re.compile(r"^[A-Za-z0-9_.:@/*+-]{1,80}$")


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error" or kind == "assertion_error":
        return " ".join(str(ctx.get("error", error["msg"])).split())
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling)"
    if kind == "string_pattern_mismatch":
        return PATTERN_HINTS.get(str(ctx.get("pattern")), "has characters or a form this field does not allow")
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}"
    if kind in ("int_from_float", "int_parsing_size"):
        return "must be a whole number of reasonable size"
    if kind in ("finite_number",):
        return "must be a finite number"
    bounds = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most"}
    bounds["less_than"] = "less than"
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"must be {bounds[kind]} {limit}"
    if kind in ("too_short", "too_long"):
        which = "at least" if kind == "too_short" else "at most"
        count = ctx.get("min_length", ctx.get("max_length"))
        return f"needs {which} {count} item(s)"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind.startswith("ip_v4"):
        return "must be an IPv4 network like 192.0.2.0/24" if "network" in kind else "must be an IPv4 address like 192.0.2.10"
    if kind in _URL_ERRORS:
        return "must be an http(s) URL like https://login.example.org"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"must be one of {ctx.get('expected_tags')}"
    return " ".join(str(error["msg"]).split())


def show_part(part: str | int) -> str:
    """A path part as the stack file spells it; odd keys (spaces, control characters) quoted and escaped."""
    text = str(part)
    return text if _PLAIN_PART.match(text) else json.dumps(text)


def _clean_loc(raw: Any, error: Mapping[str, Any]) -> tuple[str | int, ...]:
    """The part of pydantic's location that exists in the input: union tags and internal names dropped."""
    node: Any = raw
    out: list[str | int] = []
    loc = tuple(error["loc"])
    for i, part in enumerate(loc):
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_list:
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1 and error["type"] == "missing":
            out.append(part)
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        out.append(str((error.get("ctx") or {}).get("discriminator", "type")).strip("'"))
    return tuple(out)


def issues_from(error: ValidationError, raw: Mapping[str, Any]) -> list[ConfigIssue]:
    """One issue per wrong place: branch errors of a union at one path become one message."""
    by_path: dict[str, list[Mapping[str, Any]]] = {}
    for e in error.errors():
        path = ".".join(show_part(p) for p in _clean_loc(raw, e)) or "(top level)"
        by_path.setdefault(path, []).append(e)
    issues: list[ConfigIssue] = []
    for path, errors in by_path.items():
        if all(e["type"] in _KINDS for e in errors) and any(p.startswith(f"{path}.") for p in by_path):
            continue  # a union branch that refused the type; another branch got further (reported below)
        specific = [e for e in errors if e["type"] not in _KINDS]
        if specific:
            messages = dict.fromkeys(_message(e) for e in specific)
        else:  # every branch refused the type: say which types would do
            kinds = dict.fromkeys(_KINDS[e["type"]] for e in errors)
            messages = {f"must be {' or '.join(kinds)}": None}
        issues.extend(ConfigIssue(path, m) for m in messages)
    return issues
