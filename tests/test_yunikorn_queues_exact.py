"""YuniKorn's queues.yaml parsed back and compared whole: placement, ACLs, limits, preemption, resources."""

from __future__ import annotations

import re

import yaml

from components.yunikorn.queues import fallback_filter, render_queues_yaml, render_resources
from config.scheduler import NOTEBOOK_GROUP, Resources, SchedulerConfig

SCHEDULER = SchedulerConfig.model_validate(
    {
        "queues": [
            {
                "name": "root",
                "admin_acl": {"users": ["ops"]},
                "queues": [
                    {
                        "name": "students",
                        "submit_acl": {"groups": ["students"]},
                        "guaranteed": {"vcore": "4", "memory": "8Gi"},
                        "max": {"vcore": "16", "memory": "32Gi", "gpu": 0, "pods": 50},
                        "max_applications": 40,
                        "user_limits": [
                            {"description": "each student", "users": ["*"], "max_servers": 1, "max_resources": {"vcore": "2"}},
                        ],
                    },
                    {
                        "name": "research",
                        "queues": [
                            {
                                "name": "batch",
                                "submit_acl": {"users": ["alice", "bob"], "groups": ["lab"]},
                                "interactive": False,
                                "application_sort": "fifo",
                                "preemption_delay_seconds": 45,
                                "guaranteed": {"gpu": 2},
                                "user_limits": [{"groups": ["lab"], "max_servers": 3}],
                            }
                        ],
                    },
                ],
            }
        ],
        "fallback_queue": {"name": "system", "guaranteed": {"vcore": "1"}, "max": {"vcore": "4", "memory": "8Gi", "gpu": 3}},
        "node_sort_policy": "binpacking",
        "hub_service_account": "hub.x",
    }
)


def test_queues_yaml_exactly() -> None:
    text = render_queues_yaml(SCHEDULER, "nvidia.com/gpu")
    assert text.startswith("# Rendered by jupyterhub-platform from the `scheduler` config section; edit that, not this.\n")
    assert yaml.safe_load(text) == {
        "partitions": [
            {
                "name": "default",
                "placementrules": [
                    {"name": "provided", "create": False},
                    {
                        "name": "fixed",
                        "value": "root.system",
                        "create": False,
                        "filter": {
                            "type": "deny",
                            "users": [r"^system:serviceaccount:[^:]+:hub\.x$"],
                            "groups": [NOTEBOOK_GROUP],
                        },
                    },
                ],
                "nodesortpolicy": {"type": "binpacking"},
                "queues": [
                    {
                        "name": "root",
                        "adminacl": "ops",
                        "queues": [
                            {
                                "name": "students",
                                "submitacl": " students",
                                "maxapplications": 40,
                                "resources": {
                                    "guaranteed": {"vcore": "4", "memory": "8Gi"},
                                    "max": {"vcore": "16", "memory": "32Gi", "nvidia.com/gpu": "0", "pods": "50"},
                                },
                                "properties": {"application.sort.policy": "fair", "preemption.policy": "disabled"},
                                "limits": [
                                    {
                                        "limit": "each student",
                                        "users": ["*"],
                                        "maxapplications": 1,
                                        "maxresources": {"vcore": "2"},
                                    }
                                ],
                            },
                            {
                                "name": "research",
                                "queues": [
                                    {
                                        "name": "batch",
                                        "submitacl": "alice,bob lab",
                                        "resources": {"guaranteed": {"nvidia.com/gpu": "2"}},
                                        "properties": {"application.sort.policy": "fifo", "preemption.delay": "45s"},
                                        "limits": [{"groups": ["lab"], "maxapplications": 3}],
                                    }
                                ],
                            },
                            {
                                "name": "system",
                                "submitacl": "*",
                                "resources": {
                                    "guaranteed": {"vcore": "1"},
                                    "max": {"vcore": "4", "memory": "8Gi", "nvidia.com/gpu": "0"},
                                },
                                "properties": {"application.sort.policy": "fifo", "preemption.policy": "disabled"},
                            },
                        ],
                    }
                ],
            }
        ]
    }


def test_empty_resources_are_left_out() -> None:
    assert render_resources(Resources(), "nvidia.com/gpu") == {}
    scheduler = SchedulerConfig.model_validate(
        {"queues": [{"name": "root", "queues": [{"name": "a", "guaranteed": {}, "max": {}}]}], "fallback_queue": {"max": {}}}
    )
    root = yaml.safe_load(render_queues_yaml(scheduler, "nvidia.com/gpu"))["partitions"][0]["queues"][0]
    assert root["queues"][0] == {
        "name": "a",
        "properties": {"application.sort.policy": "fair", "preemption.policy": "disabled"},
    }
    assert root["queues"][1]["resources"] == {"max": {"nvidia.com/gpu": "0"}}


def test_fallback_filter_matches_only_the_hub_service_account() -> None:
    pattern = re.compile(fallback_filter(SCHEDULER)["users"][0])
    assert pattern.match("system:serviceaccount:hub-a:hub.x")
    assert not pattern.match("system:serviceaccount:hub-a:hubax")
    assert not pattern.match("system:serviceaccount:a:b:hub.x")
    assert not pattern.match("system:serviceaccount:hub-a:hub.x2")
