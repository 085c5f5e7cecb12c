"""Typed configuration of the platform: models, rules and the loader."""

from config.errors import ConfigError, ConfigIssue
from config.inventory import Inventory, Node, Role
from config.loader import load_platform
from config.platform import PlatformConfig

__all__ = ["ConfigError", "ConfigIssue", "Inventory", "Node", "PlatformConfig", "Role", "load_platform"]
