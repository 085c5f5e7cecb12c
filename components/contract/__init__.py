"""The stack contract: the `platform` output document, its JSON Schema, and its publication."""
