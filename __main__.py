"""Pulumi entry point: load the stack's config, compose the platform, export its outputs."""

import pulumi

from components.common.dependency_depth import allow_long_dependency_chains
from components.stack import build_platform
from config.pulumi_source import load_from_pulumi

allow_long_dependency_chains()
config, secrets = load_from_pulumi()
for name, value in build_platform(config, secrets).items():
    pulumi.export(name, value)
