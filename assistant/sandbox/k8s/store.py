"""The object store of one emulated cluster: resourceVersion, optimistic concurrency, namespaces."""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from assistant.sandbox.k8s import errors
from assistant.sandbox.k8s.resources import ResourceKind, by_kind

Obj = dict[str, Any]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# kube-apiserver refuses to delete these, and so do we.
_UNDELETABLE_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class ResourceVersionClock:
    """A process-wide monotonic counter; every write anywhere takes the next value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def next(self) -> str:
        """Advance and return the new resourceVersion."""
        with self._lock:
            self._value += 1
            return str(self._value)

    def current(self) -> str:
        """The latest resourceVersion handed out."""
        with self._lock:
            return str(self._value)


def now_rfc3339() -> str:
    """The current UTC time the way Kubernetes writes timestamps."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _validate_name(res: ResourceKind, name: str) -> None:
    pattern, limit, what = (_LABEL, 63, "RFC 1123 label") if res.kind == "Namespace" else (_SUBDOMAIN, 253, "RFC 1123 subdomain")
    if len(name) > limit or not pattern.match(name):
        raise errors.invalid(
            res,
            name,
            f'metadata.name: Invalid value: "{name}": a lowercase {what} must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        )


class ObjectStore:
    """Thread-safe objects of one cluster, keyed by resource, namespace and name.

    Every read returns a deep copy, so callers can never mutate stored state by accident.
    """

    def __init__(self, clock: ResourceVersionClock) -> None:
        self._clock = clock
        self.lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}

    def _bucket(self, res: ResourceKind) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault(res.key, {})

    def _key(self, res: ResourceKind, namespace: str | None, name: str) -> tuple[str, str]:
        return ((namespace or "") if res.namespaced else "", name)

    def get(self, res: ResourceKind, namespace: str | None, name: str) -> Obj:
        """One object, or 404."""
        with self.lock:
            obj = self._bucket(res).get(self._key(res, namespace, name))
            if obj is None:
                raise errors.not_found(res, name)
            return copy.deepcopy(obj)

    def find(self, res: ResourceKind, namespace: str | None, name: str) -> Obj | None:
        """One object, or None."""
        try:
            return self.get(res, namespace, name)
        except errors.ApiError:
            return None

    def list(
        self, res: ResourceKind, namespace: str | None, predicate: Callable[[Obj], bool] = lambda _o: True
    ) -> tuple[list[Obj], str]:
        """Matching objects sorted by namespace and name, and the list's resourceVersion."""
        with self.lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _name), obj in sorted(self._bucket(res).items())
                if (not namespace or not res.namespaced or ns == namespace) and predicate(obj)
            ]
            return items, self._clock.current()

    def _require_namespace(self, res: ResourceKind, namespace: str | None) -> None:
        if not res.namespaced:
            return
        namespaces = by_kind("Namespace")
        if not namespace or ("", namespace) not in self._bucket(namespaces):
            raise errors.not_found(namespaces, namespace or "")

    def create(self, res: ResourceKind, namespace: str | None, obj: Obj, dry_run: bool = False) -> Obj:
        """Store a new object, filling server-managed metadata; 409 if the name is taken."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name") or ""
        if not name:
            raise errors.invalid(res, "", "metadata.name: Required value: name or generateName is required")
        _validate_name(res, name)
        with self.lock:
            self._require_namespace(res, namespace)
            key = self._key(res, namespace, name)
            if key in self._bucket(res):
                raise errors.already_exists(res, name)
            obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            meta.pop("resourceVersion", None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if res.namespaced:
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            if res.kind == "Namespace":
                obj.setdefault("spec", {"finalizers": ["kubernetes"]})
                obj["status"] = {"phase": "Active"}
            if dry_run:
                return obj
            meta["resourceVersion"] = self._clock.next()
            self._bucket(res)[key] = obj
            return copy.deepcopy(obj)

    def replace(self, res: ResourceKind, namespace: str | None, name: str, obj: Obj, dry_run: bool = False) -> Obj:
        """Replace a whole object. A resourceVersion in ``obj`` must match the stored one (else 409)."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        with self.lock:
            key = self._key(res, namespace, name)
            current = self._bucket(res).get(key)
            if current is None:
                raise errors.not_found(res, name)
            wanted = meta.get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise errors.conflict(res, name)
            cur_meta = current["metadata"]
            meta["name"] = name
            meta["uid"] = cur_meta["uid"]
            meta["creationTimestamp"] = cur_meta["creationTimestamp"]
            if res.namespaced:
                meta["namespace"] = cur_meta["namespace"]
            obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            if dry_run:
                return obj
            meta["resourceVersion"] = self._clock.next()
            self._bucket(res)[key] = obj
            return copy.deepcopy(obj)

    def update(
        self,
        res: ResourceKind,
        namespace: str | None,
        name: str,
        change: Callable[[Obj], Obj],
        dry_run: bool = False,
    ) -> Obj:
        """Read-modify-write under the store lock (patches, and the sandbox's own edits)."""
        with self.lock:
            current = self.get(res, namespace, name)
            version = current["metadata"]["resourceVersion"]
            changed = change(copy.deepcopy(current))
            meta = changed.setdefault("metadata", {})
            # A resourceVersion the change itself carries is a precondition, as in kube-apiserver.
            if meta.get("resourceVersion") not in (None, version):
                raise errors.conflict(res, name)
            meta["resourceVersion"] = version
            return self.replace(res, namespace, name, changed, dry_run)

    def delete(
        self,
        res: ResourceKind,
        namespace: str | None,
        name: str,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Remove an object (and a namespace's contents); returns what was removed."""
        with self.lock:
            key = self._key(res, namespace, name)
            current = self._bucket(res).get(key)
            if current is None:
                raise errors.not_found(res, name)
            pre = preconditions or {}
            if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"]["resourceVersion"]:
                raise errors.conflict(res, name)
            if pre.get("uid") and pre["uid"] != current["metadata"]["uid"]:
                raise errors.conflict(res, name)
            if res.kind == "Namespace" and name in _UNDELETABLE_NAMESPACES:
                raise errors.ApiError(
                    403,
                    "Forbidden",
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    {"name": name, "kind": "namespaces"},
                )
            if dry_run:
                return copy.deepcopy(current)
            del self._bucket(res)[key]
            if res.kind == "Namespace":
                for bucket in self._objects.values():
                    for obj_key in [k for k in bucket if k[0] == name]:
                        del bucket[obj_key]
            self._clock.next()
            return copy.deepcopy(current)

    def versions(self) -> dict[str, str]:
        """``resource/namespace/name`` → resourceVersion for every object (for state snapshots)."""
        with self.lock:
            return {
                "/".join(p for p in (res_key.split("/")[1], ns, name) if p): obj["metadata"]["resourceVersion"]
                for res_key, bucket in sorted(self._objects.items())
                for (ns, name), obj in sorted(bucket.items())
            }
