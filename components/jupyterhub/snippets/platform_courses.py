# ruff: noqa: F821
# (`c` is defined by the chart's jupyterhub_config.py, which execs this file.)
# Platform: each server mounts the material folders of its user's courses only (read-only for students,
# writable for the course's instructors), decided from the user's JupyterHub groups at every spawn. Other
# users' courses are not in the pod at all. Rendered into hub.extraConfig by jupyterhub-platform; runs after
# platform_yunikorn.py and wraps its pod hook.
from z2jh import get_config

_platform_courses = get_config("custom.platform.courses", []) or []
_platform_hook_before_courses = c.KubeSpawner.modify_pod_hook


def platform_course_mounts(courses, user_groups):
    """(volumes, mounts) of the courses whose student or instructor group the user is in."""
    volumes, mounts = [], []
    for course in courses:
        instructor = course["instructors"] in user_groups
        if not (instructor or course["students"] in user_groups):
            continue
        volumes.append({"name": course["volume"], "persistentVolumeClaim": {"claimName": course["claim"]}})
        mounts.append({"name": course["volume"], "mountPath": course["mountPath"], "readOnly": not instructor})
    return volumes, mounts


def platform_courses_pod_hook(spawner, pod):
    from kubernetes_asyncio.client.models import V1Volume, V1VolumeMount
    from kubespawner.utils import get_k8s_model

    pod = _platform_hook_before_courses(spawner, pod) if callable(_platform_hook_before_courses) else pod
    volumes, mounts = platform_course_mounts(_platform_courses, {g.name for g in spawner.user.groups})
    pod.spec.volumes = list(pod.spec.volumes or []) + [get_k8s_model(V1Volume, v) for v in volumes]
    container = pod.spec.containers[0]
    container.volume_mounts = list(container.volume_mounts or []) + [get_k8s_model(V1VolumeMount, m) for m in mounts]
    return pod


c.KubeSpawner.modify_pod_hook = platform_courses_pod_hook
