# ruff: noqa: F821
# (`c` is defined by the chart's jupyterhub_config.py, which execs this file.)
# Platform: authenticator secrets and discovery (rendered into hub.extraConfig by jupyterhub-platform).
# Secrets arrive as environment variables from the platform's own k8s Secret, never in Helm values.
# Runs inside the chart's jupyterhub_config.py, where `c` is the traitlets config.
import json
import os
import urllib.request

from z2jh import get_config

_platform_auth = get_config("custom.platform.auth", {}) or {}
_auth_class = _platform_auth.get("class")

if _platform_auth.get("clientSecretEnv"):
    c[_auth_class].client_secret = os.environ[_platform_auth["clientSecretEnv"]]

if _platform_auth.get("bindPasswordEnv"):
    c[_auth_class].lookup_dn_search_password = os.environ[_platform_auth["bindPasswordEnv"]]

if _platform_auth.get("oidcIssuer"):
    # OIDC discovery once at start-up; bounded, and a failure restarts the hub (which retries).
    _discovery_url = _platform_auth["oidcIssuer"].rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(_discovery_url, timeout=20) as _response:
        _discovery = json.load(_response)
    c[_auth_class].authorize_url = _discovery["authorization_endpoint"]
    c[_auth_class].token_url = _discovery["token_endpoint"]
    c[_auth_class].userdata_url = _discovery["userinfo_endpoint"]


def platform_github_groups(auth_state):
    """GitHub teams in auth_state become JupyterHub groups named `org:team-slug`."""
    teams = (auth_state or {}).get("teams") or []
    return sorted({f"{t['organization']['login']}:{t['slug']}" for t in teams})


if _platform_auth.get("githubTeamsAsGroups"):
    c[_auth_class].auth_state_groups_key = platform_github_groups
