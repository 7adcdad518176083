# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployments, StatefulSets and their pods, as the API returns them (plain dicts), through one K8sConnection.

Objects are read raw (``_preload_content=False``) so that callers see exactly the API's JSON (camelCase keys,
absent zero counters), which is what the pure rules in institutional_vault/ are written against.
"""

import json

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

try:
    from kubernetes import client as k8s_client
except ImportError:
    k8s_client = None  # modules check connection.HAS_KUBERNETES first and fail with missing_required_lib

_APPS = {"Deployment": "deployment", "StatefulSet": "stateful_set"}


def _raw(response):
    return json.loads(response.data)


class Workloads(object):
    """Reads, scales and annotates workloads (dicts with name, kind, namespace, selector) and lists their pods."""

    def __init__(self, connection):
        self.connection = connection
        self.apps = k8s_client.AppsV1Api(connection.api_client)
        self.core = k8s_client.CoreV1Api(connection.api_client)

    def _apps_method(self, verb, kind, suffix=""):
        if kind not in _APPS:
            raise RecoveryError("kind %r is not Deployment or StatefulSet." % kind, fix="spell kind exactly.")
        return getattr(self.apps, "%s_namespaced_%s%s" % (verb, _APPS[kind], suffix))

    def read(self, workload):
        """The workload as the API returns it, or None when it does not exist."""
        response = self.connection.call(
            "read %s %s/%s" % (workload["kind"], workload["namespace"], workload["name"]),
            self._apps_method("read", workload["kind"]), workload["name"], workload["namespace"],
            _preload_content=False, not_found_is_none=True)
        return None if response is None else _raw(response)

    def pods(self, workload):
        """Every pod the workload's selector matches, terminating ones included."""
        response = self.connection.call(
            "list the pods of %s %s/%s (%s)" % (workload["kind"], workload["namespace"], workload["name"],
                                                workload["selector"]),
            self.core.list_namespaced_pod, workload["namespace"], label_selector=workload["selector"],
            _preload_content=False)
        return _raw(response).get("items") or []

    def scale(self, workload, replicas):
        """Set spec.replicas through the scale subresource (as kubectl scale and k8s_scale do)."""
        self.connection.call(
            "scale %s %s/%s to %d" % (workload["kind"], workload["namespace"], workload["name"], replicas),
            self._apps_method("patch", workload["kind"], "_scale"), workload["name"], workload["namespace"],
            {"spec": {"replicas": replicas}}, _preload_content=False)

    def annotate(self, workload, key, value):
        """Set one annotation on the workload (a merge patch of metadata.annotations only)."""
        self.connection.call(
            "annotate %s %s/%s with %s" % (workload["kind"], workload["namespace"], workload["name"], key),
            self._apps_method("patch", workload["kind"]), workload["name"], workload["namespace"],
            {"metadata": {"annotations": {key: value}}}, _preload_content=False)

    def pod_log(self, namespace, pod, lines):
        """The last lines of a pod's log; [] when there is none (the pod may be gone already)."""
        try:
            response = self.connection.call(
                "read the log of pod %s/%s" % (namespace, pod), self.core.read_namespaced_pod_log, pod, namespace,
                tail_lines=lines, _preload_content=False, not_found_is_none=True)
        except RecoveryError:
            return []  # the log only adds detail to an error that is already being raised
        if response is None:
            return []
        return response.data.decode("utf-8", "replace").splitlines()
