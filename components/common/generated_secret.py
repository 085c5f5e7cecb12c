"""GeneratedSecret: a random value made once by `pulumi up` and kept in the stack's state.

Why not `pulumi_random`: the random provider (pulumi-resource-random) cannot be built from what this
project's machines reach (the Go module proxy refuses github.com/pulumi/pulumi-random/provider/v4, see
README "The real-engine tier"), so a stack using it could be previewed but never applied under the
engine the project builds. This dynamic provider runs in the Python SDK's own provider host
(pulumi-resource-pulumi-python), which ships with the SDK, so `pulumi up` works wherever the program
runs. It does what the program needed from pulumi_random and no more: a value drawn from the operating
system's CSPRNG on create, stored (encrypted: a secret output) in state, unchanged by every later `up`,
replaced only when its length or alphabet changes.

Type: `pulumi-python:dynamic/generated:Secret`; output `value`.
"""

from __future__ import annotations

import secrets
import string
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

Alphabet = Literal["hex", "alphanumeric"]
ALPHABETS: tuple[Alphabet, ...] = ("hex", "alphanumeric")
_ALPHANUMERIC = string.ascii_letters + string.digits
INPUT_KEYS = ("alphabet", "length")


def generate(alphabet: str, length: int) -> str:
    """`hex`: `length` random bytes as 2*length hex digits (what `RandomBytes.hex` gave); `alphanumeric`:
    `length` characters of A-Z, a-z, 0-9 (what `RandomPassword(special=False).result` gave)."""
    if length < 1:
        raise ValueError(f"a generated secret needs a length of at least 1, got {length}")
    if alphabet == "hex":
        return secrets.token_bytes(length).hex()
    if alphabet == "alphanumeric":
        return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))
    raise ValueError(f"unknown alphabet {alphabet!r} (one of {', '.join(ALPHABETS)})")


class GeneratedSecretProvider(ResourceProvider):
    """Makes the value on create; nothing outside the state holds it, so there is nothing to delete."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        alphabet, length = str(props["alphabet"]), int(props["length"])
        return CreateResult(secrets.token_hex(8), {"alphabet": alphabet, "length": length, "value": generate(alphabet, length)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Any change of shape is a new value (replace); otherwise the stored value stays as it is.
        replaces = [k for k in INPUT_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(olds)  # unreachable in practice: every change is a replacement

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # the state is the only copy

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class GeneratedSecret(Resource, module="generated", name="Secret"):
    """A random `value` (secret) of `length` bytes as hex, or `length` letters and digits."""

    value: pulumi.Output[str]

    def __init__(
        self, name: str, *, alphabet: Alphabet, length: int, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if alphabet not in ALPHABETS or length < 1:
            raise ValueError(f"{name}: alphabet must be one of {ALPHABETS} and length at least 1")
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["value"])
        super().__init__(
            GeneratedSecretProvider(),
            name,
            {"alphabet": alphabet, "length": length, "value": None},
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )
