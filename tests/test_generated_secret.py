"""GeneratedSecret, the dynamic provider that replaced pulumi_random: the value's shape, its stability
(an unchanged resource keeps its stored value) and replacement on a change of shape."""

from __future__ import annotations

import re

import pytest

from components.common.generated_secret import GeneratedSecretProvider, generate


def test_hex_is_length_random_bytes_and_alphanumeric_is_letters_and_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", generate("hex", 32))
    assert re.fullmatch(r"[A-Za-z0-9]{32}", generate("alphanumeric", 32))
    assert len({generate("hex", 32) for _ in range(20)}) == 20, "each value is drawn anew"


@pytest.mark.parametrize(("alphabet", "length"), [("base64", 32), ("hex", 0)])
def test_bad_shapes_are_refused(alphabet: str, length: int) -> None:
    with pytest.raises(ValueError):
        generate(alphabet, length)


def test_create_stores_the_value_and_an_unchanged_shape_keeps_it() -> None:
    provider = GeneratedSecretProvider()
    created = provider.create({"alphabet": "hex", "length": 16, "value": None})
    outs = created.outs or {}
    assert re.fullmatch(r"[0-9a-f]{32}", outs["value"]) and created.id
    same = provider.diff(created.id, outs, {"alphabet": "hex", "length": 16, "value": None})
    assert not same.changes and not same.replaces
    assert provider.read(created.id, outs).outs == outs, "the state is the only copy: read returns it"
    other = provider.create({"alphabet": "hex", "length": 16})
    assert (other.outs or {})["value"] != outs["value"] and other.id != created.id


@pytest.mark.parametrize("change", [{"length": 24}, {"alphabet": "alphanumeric"}])
def test_a_change_of_shape_replaces_the_value(change: dict[str, object]) -> None:
    provider = GeneratedSecretProvider()
    outs = provider.create({"alphabet": "hex", "length": 16}).outs or {}
    diff = provider.diff("id", outs, {"alphabet": "hex", "length": 16, **change})
    assert diff.changes and diff.replaces == list(change)
