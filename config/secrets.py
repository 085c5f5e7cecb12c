"""Which secrets a stack needs, and how to set each one."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass

from config.backup import (
    BACKUP_SECRET_KEYS,
    RESTIC_PASSWORD_SECRET,
    S3_ACCESS_KEY_SECRET,
    S3_SECRET_KEY_SECRET,
    SFTP_KEY_SECRET,
)
from config.consoles import CLIENT_SECRET_KEY, CONSOLE_SECRET_KEY, console_secret_key
from config.hub_auth import OAUTH_TYPES, LdapAuth
from config.hubs import HUB_SECRET_KEY, hub_secret_key
from config.lifecycle import ENCRYPTION_KEY_PREFIX, encryption_secret_key
from config.monitoring import (
    GRAFANA_OAUTH_SECRET,
    GRAFANA_TLS_CERT_SECRET,
    GRAFANA_TLS_KEY_SECRET,
    MONITORING_SECRET_KEY,
    SMTP_PASSWORD_SECRET,
    EmailReceiver,
    WebhookReceiver,
    webhook_secret_key,
)
from config.platform import PlatformConfig
from config.publish import ACCESS_KEY_SECRET, SECRET_KEY_SECRET


@dataclass(frozen=True)
class SecretRequirement:
    """A secret config key the stack cannot deploy without."""

    key: str
    """Pulumi config key (without the project prefix)."""
    purpose: str
    """What it is for, shown in the error."""
    example: str
    """How to set it; the error prints this exact command."""


SecretRule = Callable[[PlatformConfig], Iterator[SecretRequirement]]


def _cluster_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    if cfg.builds_cluster:
        yield SecretRequirement(
            "ssh_private_key",
            "the SSH private key that logs in to every node",
            "pulumi config set --secret ssh_private_key < ~/.ssh/id_ed25519",
        )
    else:
        yield SecretRequirement(
            "kubeconfig",
            "the kubeconfig of the existing cluster",
            "pulumi config set --secret kubeconfig < ~/.kube/config",
        )


def _publish_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    # Both keys together or neither: `publish.credentials: stack-secrets` asks for the pair.
    if cfg.publish is not None and cfg.publish.credentials == "stack-secrets":
        for key, purpose in (
            (ACCESS_KEY_SECRET, "the access key id used to publish the platform contract"),
            (SECRET_KEY_SECRET, "the secret access key used to publish the platform contract"),
        ):
            yield SecretRequirement(key, purpose, f"pulumi config set --secret {key} <value>")


def hub_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    """Secrets each hub needs; the error prints the exact command."""
    for hub in cfg.hubs:
        if hub.auth.type in OAUTH_TYPES:
            key = hub_secret_key(hub.name, "oauth_client_secret")
            yield SecretRequirement(
                key, f"OAuth client secret of hub {hub.name!r}", f"pulumi config set --secret {key} '<client secret>'"
            )
        if isinstance(hub.auth, LdapAuth) and hub.auth.lookup_dn_search_user:
            key = hub_secret_key(hub.name, "ldap_bind_password")
            yield SecretRequirement(
                key, f"LDAP search user password of hub {hub.name!r}", f"pulumi config set --secret {key} '<password>'"
            )
        if hub.database.type == "postgres":
            key = hub_secret_key(hub.name, "db_password")
            yield SecretRequirement(
                key, f"PostgreSQL password of hub {hub.name!r}", f"pulumi config set --secret {key} '<password>'"
            )
        if hub.https.mode == "secret":
            for what, source in (("tls_cert", "fullchain.pem"), ("tls_key", "privkey.pem")):
                key = hub_secret_key(hub.name, what)
                yield SecretRequirement(
                    key, f"TLS {what[4:]} (PEM) of hub {hub.name!r}", f"pulumi config set --secret {key} < {source}"
                )


def _encryption_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    settings = cfg.cluster.encryption_at_rest
    if not cfg.builds_cluster or settings is None:
        return
    for name in settings.keys:
        key = encryption_secret_key(name)
        yield SecretRequirement(
            key,
            f"the {settings.provider} key {name!r} that encrypts Secrets in etcd (32 random bytes, base64)",
            f"head -c 32 /dev/urandom | base64 | pulumi config set --secret {key}",
        )


def _backup_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    """The restic repository password and the target's credentials; the error prints the command."""
    backup = cfg.backup
    if backup is None:
        return
    yield SecretRequirement(
        RESTIC_PASSWORD_SECRET,
        "the password that encrypts the backup repositories (keep a copy outside the cluster: without it no restore)",
        f'pulumi config set --secret {RESTIC_PASSWORD_SECRET} "$(openssl rand -base64 32)"',
    )
    if backup.s3 is not None:
        for key, what in ((S3_ACCESS_KEY_SECRET, "access key id"), (S3_SECRET_KEY_SECRET, "secret access key")):
            yield SecretRequirement(key, f"the {what} of the backup bucket", f"pulumi config set --secret {key} '<{what}>'")
    if backup.sftp is not None:
        yield SecretRequirement(
            SFTP_KEY_SECRET,
            "the SSH private key that logs in to the backup SFTP server",
            f"pulumi config set --secret {SFTP_KEY_SECRET} < ~/.ssh/backup_ed25519",
        )


def _console_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    """The OIDC client secret and each console's certificate; the error prints the exact command."""
    if cfg.consoles is None:
        return
    yield SecretRequirement(
        CLIENT_SECRET_KEY,
        f"OIDC client secret of the consoles' client {cfg.consoles.identity.client_id!r}",
        f"pulumi config set --secret {CLIENT_SECRET_KEY} '<client secret>'",
    )
    for console in cfg.consoles.apps:
        for what, source in (("tls_cert", "fullchain.pem"), ("tls_key", "privkey.pem")):
            key = console_secret_key(console.name, what)
            yield SecretRequirement(
                key, f"TLS {what[4:]} (PEM) of console {console.name!r} ({console.host})",
                f"pulumi config set --secret {key} < {source}",
            )


def _monitoring_secrets(cfg: PlatformConfig) -> Iterator[SecretRequirement]:
    """Secrets the monitoring section needs; the error prints the exact command."""
    mon = cfg.monitoring
    if mon is None:
        return
    if mon.grafana is not None:
        yield SecretRequirement(
            GRAFANA_OAUTH_SECRET,
            "OAuth client secret of Grafana at the hubs' identity provider",
            f"pulumi config set --secret {GRAFANA_OAUTH_SECRET} '<client secret>'",
        )
        for key, source in ((GRAFANA_TLS_CERT_SECRET, "fullchain.pem"), (GRAFANA_TLS_KEY_SECRET, "privkey.pem")):
            yield SecretRequirement(
                key,
                f"Grafana's TLS certificate for {mon.grafana.host} ({source})",
                f"pulumi config set --secret {key} < {source}",
            )
    if any(isinstance(r, EmailReceiver) and r.username for r in mon.receivers):
        yield SecretRequirement(
            SMTP_PASSWORD_SECRET,
            "password of the SMTP login that sends alert e-mails",
            f"pulumi config set --secret {SMTP_PASSWORD_SECRET} '<password>'",
        )
    for receiver in mon.receivers:
        if isinstance(receiver, WebhookReceiver):
            key = webhook_secret_key(receiver.name)
            yield SecretRequirement(
                key,
                f"URL (with its token) of the {receiver.name!r} alert webhook",
                f"pulumi config set --secret {key} 'https://...'",
            )


# Later sections (hub authentication, publication) append their rules here.
SECRET_RULES: list[SecretRule] = [_cluster_secrets]
SECRET_RULES.append(_publish_secrets)
SECRET_RULES.append(hub_secrets)
SECRET_RULES.append(_encryption_secrets)
SECRET_RULES.append(_backup_secrets)
SECRET_RULES.append(_console_secrets)
SECRET_RULES.append(_monitoring_secrets)


def required_secrets(cfg: PlatformConfig) -> list[SecretRequirement]:
    return [req for rule in SECRET_RULES for req in rule(cfg)]


# Secret keys a stack may set without being required (e.g. optional credentials).
OPTIONAL_SECRET_KEYS: set[str] = {"keepalived_auth_pass"}
OPTIONAL_SECRET_KEYS |= {ACCESS_KEY_SECRET, SECRET_KEY_SECRET}  # publish.credentials: stack-secrets
OPTIONAL_SECRET_KEYS |= BACKUP_SECRET_KEYS  # required only with a backup section (_backup_secrets)


# Secret key names that depend on the config (e.g. `hub_<hub name>_oauth_client_secret`).
SECRET_KEY_PATTERNS: list[re.Pattern[str]] = [HUB_SECRET_KEY]
SECRET_KEY_PATTERNS.append(re.compile(rf"^{ENCRYPTION_KEY_PREFIX}[a-z0-9_]+$"))
SECRET_KEY_PATTERNS.append(CONSOLE_SECRET_KEY)
SECRET_KEY_PATTERNS.append(MONITORING_SECRET_KEY)


class KnownSecretKeys(set[str]):
    """The fixed names, plus every name a pattern of `SECRET_KEY_PATTERNS` allows.

    `key in known` and `keys - known` (the loader's unknown-key check) both honour the patterns."""

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (isinstance(key, str) and any(p.match(key) for p in SECRET_KEY_PATTERNS))

    def __rsub__(self, other: Set[str]) -> set[str]:
        return {k for k in other if k not in self}


def known_secret_keys() -> set[str]:
    """Every secret key name any rule can ask for, so a typo in one is reported."""
    names = KnownSecretKeys(set(OPTIONAL_SECRET_KEYS) | {"ssh_private_key", "kubeconfig", CLIENT_SECRET_KEY})
    return names


def _vrrp_password(value: str) -> str | None:
    # VRRP PASS authentication carries at most 8 characters; keepalived silently truncates longer ones.
    if not re.fullmatch(r"[A-Za-z0-9._:+=@%/-]{1,8}", value):
        return "must be 1 to 8 characters from A-Z a-z 0-9 . _ : + = @ % / - (VRRP PASS authentication)"
    return None


def _encryption_key(value: str) -> str | None:
    # secretbox takes exactly 32 bytes; aescbc also takes 16 or 24, but 32 keeps both interchangeable.
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "is not base64; create it with: head -c 32 /dev/urandom | base64"
    if len(decoded) != 32:
        return f"decodes to {len(decoded)} bytes, not 32; create it with: head -c 32 /dev/urandom | base64"
    return None


ValueRule = Callable[[str], str | None]


class SecretValueRules(dict[str, ValueRule]):
    """Rules by exact key name, then by key pattern (`encryption_key_<name>`)."""

    patterns: list[tuple[re.Pattern[str], ValueRule]] = []

    def get(self, key: str, default: ValueRule | None = None) -> ValueRule | None:  # type: ignore[override]
        if key in self:
            return self[key]
        return next((rule for pattern, rule in self.patterns if pattern.match(key)), default)


# Checks on secret values, run where the values exist (`pulumi up`/`preview`), never in the render.
# A rule returns a message that never repeats the value.
SECRET_VALUE_RULES = SecretValueRules({"keepalived_auth_pass": _vrrp_password})
SECRET_VALUE_RULES.patterns.append((re.compile(rf"^{ENCRYPTION_KEY_PREFIX}[a-z0-9_]+$"), _encryption_key))
