"""Turn pydantic's validation errors into messages a person can act on.

pydantic locates errors with its own internals mixed into the path (union tags such as
`generic-oauth`, `str`, `dict[str,constrained-int]`, `function-after[...]`) and words them for
programmers (`String should match pattern '^[a-z0-9]...$'`). Here the path keeps only the keys and
indexes that are in the stack file, each message says what is allowed with an example (never a
regular expression), and the errors of a union's branches at one place become one error.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

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


def _model_at(model: type[BaseModel], raw: Any, loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model that validates the mapping at `loc` of `raw` (None where it is not a model)."""
    node: Any = raw
    current: type[BaseModel] | None = model
    annotation: Any = None
    for part in loc:
        if isinstance(part, int):
            if annotation is None or not isinstance(node, list):
                return None
            node, annotation = node[part], _item_annotation(annotation)
        else:
            field = current.model_fields.get(part) if current is not None else None
            if field is None or not isinstance(node, Mapping):
                return None
            node, annotation = node[part], field.annotation
        current = _model_for(annotation, node) if isinstance(node, Mapping) else None
    return current


def issues_from(error: ValidationError, raw: Mapping[str, Any], model: type[BaseModel] | None = None) -> list[ConfigIssue]:
    """One issue per wrong place: branch errors of a union at one path become one message; an unknown key
    close to a field of the model it sits in (`model` validated `raw`) names that field."""
    by_path: dict[str, list[Mapping[str, Any]]] = {}
    for e in error.errors():
        loc = _clean_loc(raw, e)
        path = ".".join(show_part(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden" and model is not None and loc:
            owner = _model_at(model, raw, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), list(owner.model_fields), n=1, cutoff=0.75) if owner else []
            if close:
                e = {**e, "type": "value_error", "ctx": {"error": f"unknown key (did you mean `{close[0]}`?)"}}
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


_SCALAR_WORDS = {int: "a whole number", float: "a number", IPv4Address: "an IPv4 address", IPv4Network: "an IPv4 network"}


def _types_in(annotation: Any) -> set[Any]:
    """The types a field accepts, unions and `Annotated` unwrapped (`list[X]` stays `list`)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _types_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return {t for arg in get_args(annotation) for t in _types_in(arg)}
    if origin is Literal:
        return {type(arg) for arg in get_args(annotation)}
    return {origin or annotation}


def _model_for(annotation: Any, value: Mapping[str, Any]) -> type[BaseModel] | None:
    """The model a mapping is validated as: the only one, or the union member its `type` names."""
    models = [t for t in _types_in(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    if len(models) == 1:
        return models[0]
    for model in models:
        tag = model.model_fields.get("type")
        if tag is not None and value.get("type") in get_args(tag.annotation):
            return model
    return None


def _item_annotation(annotation: Any) -> Any:
    """X of a `list[X]` field (through `Annotated` and `| None`), or None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _item_annotation(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return next((a for arg in get_args(annotation) if (a := _item_annotation(arg)) is not None), None)
    return get_args(annotation)[0] if origin is list else None


def swapped_scalars(model: type[BaseModel], data: Any, path: tuple[str | int, ...] = ()) -> list[ConfigIssue]:
    """What pydantic's lax mode would silently accept: `true` for a number (`count: true` is 1) and a number
    for an address (`address: 5` is 0.0.0.5). A swapped type in a stack file is a mistake, never the intent."""
    issues: list[ConfigIssue] = []
    if not isinstance(data, Mapping):
        return issues
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        here = (*path, key)
        accepted = _types_in(field.annotation)
        wanted = " or ".join(word for t, word in _SCALAR_WORDS.items() if t in accepted)
        where = ".".join(show_part(p) for p in here)
        if isinstance(value, bool) and bool not in accepted and wanted:
            issues.append(ConfigIssue(where, f"is true/false, where {wanted} is expected"))
        elif isinstance(value, int | float) and not isinstance(value, bool) and not accepted & {int, float, str}:
            if wanted:
                example = "192.0.2.10" if IPv4Address in accepted else "192.0.2.0/24"
                issues.append(ConfigIssue(where, f"is a number, where {wanted} is expected (e.g. {example})"))
            elif bool in accepted:
                issues.append(ConfigIssue(where, "is a number, where true or false is expected"))
        elif isinstance(value, Mapping) and (sub := _model_for(field.annotation, value)) is not None:
            issues += swapped_scalars(sub, value, here)
        elif isinstance(value, list) and (item := _item_annotation(field.annotation)) is not None:
            for i, element in enumerate(value):
                if isinstance(element, Mapping) and (sub := _model_for(item, element)) is not None:
                    issues += swapped_scalars(sub, element, (*here, i))
    return issues
