"""The REST semantics of one emulated cluster: paths → verbs on the object store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.sandbox.k8s import discovery, errors, protobuf, resources, selectors, tables
from assistant.sandbox.k8s.auth import ClusterRef, UserInfo
from assistant.sandbox.k8s.patch import json_patch, merge_patch
from assistant.sandbox.k8s.resources import ResourceKind
from assistant.sandbox.k8s.store import Obj, ObjectStore, now_rfc3339

MERGE_PATCH_TYPES = frozenset({"application/merge-patch+json", "application/strategic-merge-patch+json"})
JSON_PATCH_TYPE = "application/json-patch+json"
PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf"


@dataclass
class ApiRequest:
    """One HTTP request, with the path relative to the cluster's endpoint."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    user: UserInfo | None = None

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str:
        """A header value, matched case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), "")


@dataclass(frozen=True)
class ApiResponse:
    """Status code and JSON body."""

    status: int
    body: Any


@dataclass(frozen=True)
class _Target:
    res: ResourceKind
    namespace: str | None
    name: str | None


class ClusterApi:
    """One cluster's API server: discovery, CRUD, patches, tables and reviews."""

    def __init__(self, ref: ClusterRef, kubernetes_version: str, store: ObjectStore, server_address: str) -> None:
        self.ref = ref
        self.kubernetes_version = kubernetes_version
        self.store = store
        self._server_address = server_address

    def handle(self, req: ApiRequest) -> ApiResponse:
        """Answer one request; API errors become Status bodies."""
        try:
            return self._route(req)
        except errors.ApiError as exc:
            return ApiResponse(exc.code, exc.status())

    # -- routing ---------------------------------------------------------------------------------

    def _route(self, req: ApiRequest) -> ApiResponse:
        parts = [p for p in req.path.split("/") if p]
        if not parts:
            return ApiResponse(200, {"paths": ["/api", "/api/v1", "/apis", "/version"]})
        if parts[0] in ("healthz", "livez", "readyz"):
            return ApiResponse(200, "ok")
        if parts == ["version"]:
            return ApiResponse(200, discovery.version_info(self.kubernetes_version))
        if parts == ["api"]:
            return ApiResponse(200, discovery.api_versions(self._server_address))
        if parts == ["apis"]:
            return ApiResponse(200, discovery.api_group_list())
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(parts[1])
            if doc is None:
                raise errors.path_not_found()
            return ApiResponse(200, doc)
        else:
            raise errors.path_not_found()
        if not rest:
            listing = discovery.api_resource_list(group, version)
            if listing is None:
                raise errors.path_not_found()
            return ApiResponse(200, listing)
        return self._verb(req, self._target(group, version, rest))

    def _target(self, group: str, version: str, rest: list[str]) -> _Target:
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            res = resources.find(group, version, rest[2])
            if res is None or not res.namespaced:
                raise errors.path_not_found()
            namespace, rest = rest[1], rest[2:]
        res = resources.find(group, version, rest[0])
        if res is None:
            raise errors.path_not_found()
        if len(rest) > 2:
            # Subresources such as /status or /scale are not emulated.
            raise errors.path_not_found()
        return _Target(res, namespace, rest[1] if len(rest) == 2 else None)

    def _verb(self, req: ApiRequest, target: _Target) -> ApiResponse:
        res, method = target.res, req.method.upper()
        if not res.stored:
            if method == "POST" and target.name is None:
                return self._review(req, res)
            raise errors.method_not_allowed(method)
        if res.namespaced and target.name is not None and target.namespace is None:
            raise errors.path_not_found()
        if target.name is None:
            if method == "GET":
                return self._list(req, target)
            if method == "POST":
                return self._create(req, target)
            raise errors.method_not_allowed(method)
        if method == "GET":
            obj = self.store.get(res, target.namespace, target.name)
            if self._wants_table(req):
                return ApiResponse(200, self._table(req, res, [obj], obj["metadata"]["resourceVersion"]))
            return ApiResponse(200, obj)
        if method == "PUT":
            return self._replace(req, target)
        if method == "PATCH":
            return self._patch(req, target)
        if method == "DELETE":
            return self._delete(req, target)
        raise errors.method_not_allowed(method)

    # -- verbs -----------------------------------------------------------------------------------

    def _list(self, req: ApiRequest, target: _Target) -> ApiResponse:
        if req.param("watch") in ("true", "1"):
            raise errors.bad_request("watch is not supported by the eks-assist sandbox")
        label_match = selectors.label_selector(req.param("labelSelector"))
        field_match = selectors.field_selector(req.param("fieldSelector"))
        items, version = self.store.list(target.res, target.namespace, lambda o: label_match(o) and field_match(o))
        if self._wants_table(req):
            return ApiResponse(200, self._table(req, target.res, items, version))
        return ApiResponse(
            200,
            {
                "kind": f"{target.res.kind}List",
                "apiVersion": target.res.api_version,
                "metadata": {"resourceVersion": version},
                "items": items,
            },
        )

    def _create(self, req: ApiRequest, target: _Target) -> ApiResponse:
        if target.res.namespaced and target.namespace is None:
            raise errors.path_not_found()
        obj = self._body_object(req, target)
        created = self.store.create(target.res, target.namespace, obj, dry_run=self._dry_run(req))
        return ApiResponse(201, created)

    def _replace(self, req: ApiRequest, target: _Target) -> ApiResponse:
        assert target.name is not None
        obj = self._body_object(req, target)
        replaced = self.store.replace(target.res, target.namespace, target.name, obj, self._dry_run(req))
        return ApiResponse(200, replaced)

    def _patch(self, req: ApiRequest, target: _Target) -> ApiResponse:
        assert target.name is not None
        content_type = req.header("Content-Type").split(";")[0].strip().lower()
        patch = self._json_body(req)
        if content_type in MERGE_PATCH_TYPES:
            if not isinstance(patch, dict):
                raise errors.bad_request("a merge patch must be a JSON object")

            def change(current: Obj) -> Obj:
                patched = merge_patch(current, patch)
                assert isinstance(patched, dict)
                return patched
        elif content_type == JSON_PATCH_TYPE:

            def change(current: Obj) -> Obj:
                patched = json_patch(current, patch)
                if not isinstance(patched, dict):
                    raise errors.bad_request("a JSON patch must leave an object")
                return patched
        else:
            raise errors.unsupported_media_type(content_type or "none")
        updated = self.store.update(target.res, target.namespace, target.name, change, self._dry_run(req))
        return ApiResponse(200, updated)

    def _delete(self, req: ApiRequest, target: _Target) -> ApiResponse:
        assert target.name is not None
        options = self._json_body(req) if req.body.strip() else {}
        preconditions = options.get("preconditions") if isinstance(options, dict) else None
        removed = self.store.delete(target.res, target.namespace, target.name, preconditions, dry_run=self._dry_run(req))
        details: dict[str, Any] = {"name": target.name, "kind": target.res.plural, "uid": removed["metadata"]["uid"]}
        if target.res.group:
            details["group"] = target.res.group
        return ApiResponse(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})

    def _review(self, req: ApiRequest, res: ResourceKind) -> ApiResponse:
        review = self._body_object(req, _Target(res, None, None))
        user = req.user
        if res.kind == "SelfSubjectReview":
            review["status"] = {"userInfo": user.to_k8s() if user else {}}
        else:
            # No RBAC is evaluated: whoever authenticated may do anything.
            review["status"] = {"allowed": True, "reason": "the eks-assist sandbox authorizes every request"}
        review.setdefault("metadata", {})["creationTimestamp"] = now_rfc3339()
        return ApiResponse(201, review)

    # -- helpers ---------------------------------------------------------------------------------

    def _json_body(self, req: ApiRequest) -> Any:
        content_type = req.header("Content-Type").split(";")[0].strip().lower()
        if content_type == PROTOBUF_TYPE:
            return protobuf.decode(req.body)
        if content_type and not content_type.endswith("json"):
            raise errors.unsupported_media_type(content_type)
        try:
            return json.loads(req.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"error decoding request body as JSON: {exc}") from None

    def _body_object(self, req: ApiRequest, target: _Target) -> Obj:
        obj = self._json_body(req)
        if not isinstance(obj, dict):
            raise errors.bad_request("the request body must be a JSON object")
        res = target.res
        if obj.get("kind") not in (None, res.kind) or obj.get("apiVersion") not in (None, res.api_version):
            raise errors.bad_request(
                f"the body is a {obj.get('apiVersion')}/{obj.get('kind')}; this URL expects {res.api_version}/{res.kind}"
            )
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        body_ns = (meta or {}).get("namespace")
        if res.namespaced and body_ns and body_ns != target.namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
        return obj

    @staticmethod
    def _dry_run(req: ApiRequest) -> bool:
        return "All" in req.query.get("dryRun", [])

    @staticmethod
    def _wants_table(req: ApiRequest) -> bool:
        return any("as=Table" in part for part in req.header("Accept").split(","))

    @staticmethod
    def _table(req: ApiRequest, res: ResourceKind, items: list[Obj], version: str) -> Obj:
        doc = tables.table(res, items, version)
        include = req.param("includeObject") or "Metadata"
        for row, obj in zip(doc["rows"], items, strict=True):
            if include == "Object":
                row["object"] = obj
            elif include == "None":
                del row["object"]
        return doc
