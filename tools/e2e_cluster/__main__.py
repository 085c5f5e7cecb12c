"""The platform program, unchanged, for `tools/e2e.sh cluster`: e2e.sh copies the project's own
`__main__.py` beside this file as `platform_main.py` and this runs it, after test-only adjustments
for a cluster without controllers.

The API server the tier starts has no kube-controller-manager (and no kubelet), so two things a real
cluster's controllers do never happen here, and the kubernetes provider would wait for them forever:
  - nothing marks a PersistentVolume Available, binds a claim, finishes deleting a Namespace, starts
    a Deployment's pods (no scheduler, no kubelet) or gives a Service endpoints: for these five kinds
    the objects carry `pulumi.com/skipAwait: "true"` (the courses' ngshare brings the last two);
  - no garbage collector removes the `foregroundDeletion` finalizer the provider's default (foreground)
    deletion puts on an object: every object carries `pulumi.com/deletionPropagationPolicy:
    "background"`, so a delete removes it at once (nothing here owns anything to be collected).
Objects are still created, updated and deleted for real; everything else, the Helm Releases included,
is waited for as on a real cluster (the test charts hold ConfigMaps, ready when created).
"""

import runpy
from pathlib import Path
from typing import Any

import pulumi

CONTROLLER_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:core/v1:PersistentVolumeClaim",
}


def no_controller_waits(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    if not args.type_.startswith("kubernetes:") or args.type_.startswith("kubernetes:helm.sh/"):
        return None
    metadata: Any = args.props.get("metadata")
    if not isinstance(metadata, dict):
        raise TypeError(f"{args.name}: metadata is {type(metadata).__name__}, expected the dict the program writes")
    added = {"pulumi.com/deletionPropagationPolicy": "background"}
    if args.type_ in CONTROLLER_KINDS:
        added["pulumi.com/skipAwait"] = "true"
    annotations = {**(metadata.get("annotations") or {}), **added}
    props = {**args.props, "metadata": {**metadata, "annotations": annotations}}
    return pulumi.ResourceTransformationResult(props=props, opts=args.opts)


pulumi.runtime.register_stack_transformation(no_controller_waits)
runpy.run_path(str(Path(__file__).with_name("platform_main.py")), run_name="__main__")
