"""The platform program, unchanged, for `tools/e2e.sh cluster`: e2e.sh copies the project's own
`__main__.py` beside this file as `platform_main.py` and this runs it, after one test-only adjustment.

The API server the tier starts has no kube-controller-manager (and no kubelet): nothing ever marks a
PersistentVolume Available, binds a claim, or finishes deleting a Namespace. The kubernetes provider
waits for exactly those (a volume Available/Bound, a claim Bound, a deleted object gone), so for these
three kinds only the objects carry `pulumi.com/skipAwait: "true"`: they are created, updated and
deleted for real, without waiting for controllers that do not run here. Everything else, the Helm
Releases included, is waited for as on a real cluster (the test charts hold ConfigMaps, ready when
created).
"""

import runpy
from pathlib import Path
from typing import Any

import pulumi

CONTROLLER_KINDS = {
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:core/v1:PersistentVolumeClaim",
}


def no_controller_waits(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    if args.type_ not in CONTROLLER_KINDS:
        return None
    metadata: Any = args.props.get("metadata")
    if not isinstance(metadata, dict):
        raise TypeError(f"{args.name}: metadata is {type(metadata).__name__}, expected the dict the program writes")
    annotations = {**(metadata.get("annotations") or {}), "pulumi.com/skipAwait": "true"}
    props = {**args.props, "metadata": {**metadata, "annotations": annotations}}
    return pulumi.ResourceTransformationResult(props=props, opts=args.opts)


pulumi.runtime.register_stack_transformation(no_controller_waits)
runpy.run_path(str(Path(__file__).with_name("platform_main.py")), run_name="__main__")
