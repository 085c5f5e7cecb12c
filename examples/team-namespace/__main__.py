"""Pulumi entry point of the example consumer (see team_stack.py and README.md)."""

import pulumi
from team_stack import deploy

for name, value in deploy().items():
    pulumi.export(name, value)
