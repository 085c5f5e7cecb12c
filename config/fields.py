"""Field types whose checks are the real tools' rules, with messages that say what to write.

Every message names what is allowed with an example and never repeats a value that could hold a
secret (URLs are never quoted: their user part may be a password). Components rely on these
checks: a value that passes renders, so nothing fails later inside a component.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, HttpUrl

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@" + _LABEL + r"(\." + _LABEL + r")+$")
_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
HOST_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def _text(value: Any, example: str) -> str:
    """The value as text, refusing numbers, lists and maps (a YAML `1.34` is a number, not a version)."""
    if isinstance(value, bool) or not isinstance(value, str):
        kind = "a number" if isinstance(value, int | float) and not isinstance(value, bool) else "not text"
        hint = "; quote it" if kind == "a number" else ""
        raise ValueError(f"is {kind}: write text like {example}{hint}")
    return value


def _chart_version(value: Any) -> str:
    version = _text(value, '"1.9.0"')
    if not _CHART_VERSION.match(version):
        raise ValueError(
            "must be an exact chart version like 1.9.0 or v3.30.3 (as the chart's repository lists it); "
            "`latest`, ranges and partial versions like v3.30 are not pinned"
        )
    return version


ChartVersion = Annotated[str, BeforeValidator(_chart_version)]
"""An exact Helm chart version (`1.9.0`, `v3.30.3`): what `helm install --version` pins."""


def _dns_name(value: Any) -> str:
    name = _text(value, "jupyter.example.org")
    if "://" in name:
        raise ValueError("is a URL: write only the host name, e.g. jupyter.example.org (no scheme, no path)")
    if "/" in name:
        raise ValueError("has a path: write only the host name, e.g. jupyter.example.org (a hub is served at /)")
    if ":" in name or "@" in name:
        raise ValueError("write only the host name, e.g. jupyter.example.org (no port, no user)")
    if not _DNS_NAME.match(name) or name.replace(".", "").isdigit() or "." not in name:
        raise ValueError(
            "must be a DNS name like jupyter.example.org: labels of letters, digits and '-' separated by dots"
        )
    return name.lower()


DnsName = Annotated[str, BeforeValidator(_dns_name)]
"""A fully qualified DNS name (no scheme, port, path or address): what certificates and callbacks use."""


def _host(value: Any) -> str:
    host = _text(value, "bastion.example.org")
    if "://" in host:
        raise ValueError("write only the host name or address, e.g. bastion.example.org (no ssh://)")
    if "@" in host:
        raise ValueError("write only the host name or address: the login user is a field of its own")
    if ":" in host:
        raise ValueError("write only the host name or address: the port is a field of its own")
    try:
        IPv4Address(host)
        return host
    except ValueError:
        pass
    if not _DNS_NAME.match(host):
        raise ValueError("must be a host name like bastion.example.org or an IPv4 address like 192.0.2.5")
    return host


HostOrAddress = Annotated[str, BeforeValidator(_host)]
"""A host name or IPv4 address, without scheme, user or port."""


def _email(value: Any) -> str:
    if not _EMAIL.match(_text(value, "platform-team@example.org")):
        raise ValueError("must be an e-mail address like platform-team@example.org")
    return str(value)


EmailAddress = Annotated[str, BeforeValidator(_email)]


def _label_value(value: Any) -> str:
    text = _text(value, "NVIDIA-H100-80GB-HBM3")
    if not text or not _LABEL_VALUE.match(text):
        raise ValueError(
            "must be a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', starting and ending "
            "with a letter or digit, e.g. NVIDIA-H100-80GB-HBM3"
        )
    return text


LabelValue = Annotated[str, BeforeValidator(_label_value)]


def _host_key(value: Any) -> str:
    key = _text(value, "ssh-ed25519 AAAAC3Nza...").strip()
    command = "`ssh-keyscan -t ed25519 <host>` prints `<host> ssh-ed25519 AAAA...`: write the part after the host"
    if key.upper().startswith(("SHA256:", "MD5:")) or re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", key):
        raise ValueError(f"is a fingerprint; pin the public key itself as `<key-type> <base64>`: {command}")
    parts = key.split()
    if len(parts) >= 3 and parts[1] in HOST_KEY_TYPES:
        raise ValueError(f"is a known_hosts line; drop the host name(s) in front and keep `<key-type> <base64>`: {command}")
    if len(parts) != 2 or parts[0] not in HOST_KEY_TYPES:
        raise ValueError(f"must be `<key-type> <base64>` with a key type of {', '.join(HOST_KEY_TYPES[:5])}: {command}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the key after {parts[0]} is not valid base64: {command}") from None
    # The blob starts with its own key type (a length-prefixed string): a key pasted under the wrong type fails here.
    length = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    ed25519_short = parts[0] == "ssh-ed25519" and len(blob) != 4 + 11 + 4 + 32  # type, then one 32-byte key
    if blob[4 : 4 + length].decode("ascii", "replace") != parts[0] or ed25519_short:
        raise ValueError(f"the key data is not a {parts[0]} key (pasted under the wrong type, or cut short): {command}")
    return f"{parts[0]} {parts[1]}"


SshHostKey = Annotated[str, BeforeValidator(_host_key)]
"""A pinned SSH host public key, `<key-type> <base64>`, as the SSH client compares it."""


def url_problem(url: str, schemes: tuple[str, ...], example: str, *, user_allowed: bool = False) -> str | None:
    """Why `url` is not a URL of one of `schemes`, or None. Never repeats the URL (it may hold a password)."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is not None and (parts.password is not None or (parts.username is not None and not user_allowed)):
        if user_allowed:
            return "must not carry a password: remove it from the URL (the password is a secret of its own)"
        return "must not carry credentials (a user or password before the host): remove them from the URL"
    scheme = (parts.scheme.split("+")[0] if parts else "").lower()
    if parts is None or scheme not in schemes or not parts.hostname or not port_ok or any(c.isspace() for c in url):
        return f"must be a URL like {example} (scheme {' or '.join(schemes)})"
    return None


def url_check(example: str, schemes: tuple[str, ...] = ("https", "http"), *, user_allowed: bool = False) -> Callable[[Any], str]:
    """A validator for `Annotated[str, BeforeValidator(url_check(...))]`: a URL of `schemes`, no
    credentials (or no password, with `user_allowed`), trailing `/` removed."""

    def check(value: Any) -> str:
        url = _text(value, example)
        if (problem := url_problem(url, schemes, example, user_allowed=user_allowed)) is not None:
            raise ValueError(problem)
        return url.rstrip("/")

    return check


def _no_credentials(url: HttpUrl) -> HttpUrl:
    if url.username is not None or url.password is not None:
        raise ValueError("must not carry credentials (a user or password before the host): remove them from the URL")
    return url


def _not_text_url(value: Any) -> Any:
    # HttpUrl's own errors never quote the input, but a URL with credentials must not even reach a model.
    if isinstance(value, str) and (problem := url_problem(value, ("https", "http"), "https://login.example.org")):
        raise ValueError(problem)
    return value


HttpsUrl = Annotated[HttpUrl, BeforeValidator(_not_text_url), AfterValidator(_no_credentials)]
"""An http(s) URL object without credentials (OIDC endpoints)."""


# The distribution reference grammar (what containerd and `docker pull` parse):
# [domain[:port]/]path-component[/path-component...][:tag][@algorithm:hex]
_DOMAIN = r"(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)(?::[0-9]+)?"
_DOMAIN_WITH_PORT = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?:[0-9]+"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"^(?P<name>(?:(?:{_DOMAIN}|{_DOMAIN_WITH_PORT})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}))?$"
)


def _image(value: Any) -> str:
    image = _text(value, "quay.io/jupyter/scipy-notebook:2025-10-20")
    match = IMAGE_REFERENCE.match(image)
    if match is None or len(match.group("name")) > 255:
        if "@" in image.split("/")[0] or "://" in image:
            raise ValueError("must be an image reference like quay.io/jupyter/scipy-notebook:2025-10-20 (no scheme, no user)")
        raise ValueError(
            "must be an image reference: [registry[:port]/]name:tag or name@sha256:<64 hex> (lower-case name), "
            "e.g. quay.io/jupyter/scipy-notebook:2025-10-20"
        )
    if match.group("tag") is None and match.group("digest") is None:
        raise ValueError(
            "has no tag: pin one (name:tag) or a digest (name@sha256:...), e.g. quay.io/jupyter/base-notebook:2025-10-20"
        )
    if match.group("tag") == "latest" and match.group("digest") is None:
        raise ValueError("`latest` moves under running servers: pin a dated or versioned tag, e.g. :2025-10-20")
    return image


ImageReference = Annotated[str, BeforeValidator(_image)]
"""A pinned container image reference (tag, digest, or both)."""


def ldap_host(value: Any) -> str:
    """An LDAP server's host name: TLS is `tls_strategy`'s choice, so a URL (above all `ldap://`) is refused."""
    host = _text(value, "ldap.example.org")
    if host.lower().startswith("ldap://"):
        raise ValueError(
            "plain ldap:// sends passwords in clear: write the host name (ldap.example.org) and keep TLS on with "
            "tls_strategy on_connect (LDAPS, port 636) or before_bind (StartTLS, port 389)"
        )
    if "://" in host:
        raise ValueError("write only the host name, e.g. ldap.example.org (TLS is set by tls_strategy)")
    return _host(host)
