"""Run the platform program under Pulumi mocks and record the whole resource graph.

Used by `tools.render` and by the tests. `set_mocks` is process-global, so one `Recorder` is
installed once per process and cleared before each run.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import Stack

from components.common import artifacts
from components.common.dependency_depth import allow_long_dependency_chains
from tools import cycle_check

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_MARK = "[secret]"
# components.common.generated_secret.GeneratedSecret (a dynamic resource): its value comes from its provider.
GENERATED_SECRET_TYPE = "pulumi-python:dynamic/generated:Secret"


def redact(value: Any) -> Any:
    """Replace every secret (as the engine wraps it) by "[secret]", for display.

    The engine carries every number as a double; whole numbers are shown as the integers the
    program passed (`port: 22`, not `22.0`)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return SECRET_MARK
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def unsecret(value: Any) -> Any:
    """Remove the engine's secret wrappers, keeping the values (for assertions in tests)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return unsecret(value["value"])
        return {k: unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsecret(v) for v in value]
    return value


@dataclass
class Registration:
    """One registered resource with its options, as the engine saw it."""

    type: str
    name: str
    urn: str
    parent: str | None
    depends_on: list[str]
    provider: str | None
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: list[str]
    additional_secret_outputs: list[str]
    raw_inputs: dict[str, Any]
    custom: bool

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs with secrets unwrapped (test assertions)."""
        return unsecret(self.raw_inputs)

    def to_plan(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "parent": self.parent,
            "depends_on": self.depends_on,
            "provider": self.provider,
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "delete_before_replace": self.delete_before_replace,
            "ignore_changes": self.ignore_changes,
            "additional_secret_outputs": self.additional_secret_outputs,
            "inputs": redact(self.raw_inputs),
        }


# Outputs the mocks give resources whose real values come from the provider.
def _mock_outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    outputs = dict(inputs)
    if typ == "command:remote:Command":
        outputs.setdefault("stdout", f"<stdout of {name}>")
        outputs.setdefault("stderr", "")
    elif typ == GENERATED_SECRET_TYPE:
        outputs["value"] = f"<generated {inputs.get('alphabet')} {name}>"
    elif typ == "kubernetes:helm.sh/v3:Release":
        outputs.setdefault("status", {"namespace": inputs.get("namespace", "default"), "name": inputs.get("name", name)})
    return outputs


class _Mocks(mocks.Mocks):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs.get("name") or args.resource_id)
            return name, self.recorder.stack_reference_state(name)
        return f"{args.name}-id", _mock_outputs(args.typ, args.name, dict(args.inputs))

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class _Monitor(mocks.MockMonitor):
    def __init__(self, recorder: Recorder, m: mocks.Mocks) -> None:
        super().__init__(m)
        self.recorder = recorder

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            provider = request.provider or None
            deps = set(request.dependencies)
            if provider:
                deps.add(provider.rsplit("::", 1)[0])  # a provider reference is "<urn>::<id>"
            deps.discard(request.parent)
            self.recorder.registrations[urn] = Registration(
                type=request.type,
                name=request.name,
                urn=urn,
                parent=request.parent or None,
                depends_on=sorted(d for d in deps if d),
                provider=provider,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=sorted(request.ignoreChanges),
                additional_secret_outputs=sorted(request.additionalSecretOutputs),
                raw_inputs=rpc.deserialize_properties(request.object),
                custom=bool(request.custom),
            )
        return super().RegisterResource(request)


@dataclass(frozen=True)
class StackOutputs:
    """Outputs of another stack, as a program under mocks reads them through `pulumi.StackReference`."""

    outputs: Mapping[str, Any]
    secret_names: tuple[str, ...] = ()


@dataclass
class Recorder:
    registrations: dict[str, Registration] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    stack_references: dict[str, StackOutputs] = field(default_factory=dict)

    def stack_reference_state(self, name: str) -> dict[str, Any]:
        ref = self.stack_references.get(name)
        if ref is None:
            raise KeyError(f"no mocked outputs for StackReference {name!r}: pass stack_references= to mockrun.run")
        return {"name": name, "outputs": dict(ref.outputs), "secretOutputNames": list(ref.secret_names)}

    def clear(self) -> None:
        self.registrations.clear()
        self.outputs.clear()
        self.secret_outputs.clear()

    def by_type(self, typ: str) -> list[Registration]:
        return sorted((r for r in self.registrations.values() if r.type == typ), key=lambda r: r.name)

    def named(self, name: str, typ: str | None = None) -> Registration:
        found = [r for r in self.registrations.values() if r.name == name and (typ is None or r.type == typ)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]


_RECORDER: Recorder | None = None


def _root_stack_for(project: str, stack: str) -> None:
    """Make the implicit root `Stack` resource belong to this project and stack.

    `set_mocks` creates the root once, named after the first stack a process ran; without this,
    every later run (whatever its stack) would parent its resources to that first root, and URNs
    would depend on which test happened to run first."""
    root = settings.get_root_resource()
    if root is not None and root._name == f"{project}-{stack}":
        return
    settings.ROOT.set(None)
    Stack()._finish()


def install(project: str, stack: str) -> Recorder:
    """Install the recording mocks (once per process) and return the recorder, cleared."""
    global _RECORDER
    if _RECORDER is None:
        _RECORDER = Recorder()
        # The SDK walks and formats the whole Python stack for every registration to report source
        # positions to the engine; mocks ignore them, and at thousands of resources that walk is a
        # large share of the render. (pulumi is pinned; without the hook only speed changes.)
        if hasattr(resource_runtime, "_get_stack_trace"):
            resource_runtime._get_stack_trace = source_pb2.StackTrace
        # The SDK's cycle check is quadratic in the workers; the same answer in linear time.
        cycle_check.install()
        m = _Mocks(_RECORDER)
        mocks.set_mocks(m, project=project, stack=stack, preview=False, monitor=_Monitor(_RECORDER, m))
    pulumi.runtime.settings._set_stack(stack)
    pulumi.runtime.settings._set_project(project)
    _root_stack_for(project, stack)
    _RECORDER.clear()
    artifacts.reset()
    cycle_check.reset()
    return _RECORDER


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one run, back as it was after.

    The program builds a graph of long-lived objects (resources, their outputs and futures) that
    stays alive until the run ends; every full collection walks all of it again, and there are
    many of them as the graph grows. At 1,000 workers that was about 7 s of a 21 s render, for
    almost nothing freed (README "Many workers")."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run(
    project: str,
    stack: str,
    program: Callable[[], Mapping[str, Any]],
    config: Mapping[str, Any] | None = None,
    stack_references: Mapping[str, StackOutputs] | None = None,
) -> Recorder:
    """Run `program` (returning the stack outputs) under mocks; return what it registered.

    `stack_references` maps stack names to the outputs a `pulumi.StackReference` to them reads.
    """
    recorder = install(project, stack)
    allow_long_dependency_chains()  # as __main__.py does for a real run
    recorder.stack_references = dict(stack_references or {})
    pulumi.runtime.set_all_config(
        {f"{project}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
    )

    async def _collect(outputs: Mapping[str, Any]) -> None:
        for key, value in outputs.items():
            out = pulumi.Output.from_input(value)
            recorder.outputs[key] = await out.future()
            if await out.is_secret():
                recorder.secret_outputs.add(key)

    @pulumi.runtime.test
    def _program() -> Any:
        outputs = program()
        return asyncio.ensure_future(_collect(outputs))

    with collector_paused():
        _program()
    return recorder
