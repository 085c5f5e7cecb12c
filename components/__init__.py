"""Pulumi components of the platform, one package each, composed by `components.stack`."""
