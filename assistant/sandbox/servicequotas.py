"""Service Quotas in the sandbox: EKS's quotas, as an account sees them, and raised as an account raises them.

moto 5.2.5 serves two Service Quotas operations, for service code ``vpc`` only. This front
serves the operations a quota reader or a quota increase needs, for ``eks`` (EKS's documented
quotas, :data:`assistant.planning.quotas.EKS_QUOTAS`) and for ``vpc`` (moto's default data), in the
shapes of botocore's ``service-quotas`` model (through moto's JSON serializer):

- ``GetServiceQuota`` / ``ListServiceQuotas``: applied values (the default until raised);
- ``GetAWSDefaultServiceQuota`` / ``ListAWSDefaultServiceQuotas``: the defaults;
- ``RequestServiceQuotaIncrease``: approved at once (a sandbox account has no support case
  to wait for) and applied; refused like AWS for a quota that is not adjustable, or a value
  not above the current one;
- ``GetRequestedServiceQuotaChange`` and the two ``ListRequestedServiceQuotaChangeHistory``
  operations.

Other operations (templates, auto management, tags) get a well-formed
``UnknownOperationException``. Applied values live on moto's per-account, per-region
Service Quotas backend, so a sandbox restart forgets them like the rest of its state.

The sandbox's EKS front enforces the EKS quotas with these values (:mod:`assistant.sandbox.eks.limits`).
Tests and users can also set a value directly, either way, with ``POST /_sandbox/quotas``
(:func:`handle_control`): that is how a test gets a small ``Clusters`` quota without creating
a hundred clusters.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from werkzeug.wrappers import Request, Response

from assistant.sandbox import aws_errors
from assistant.sandbox.caller import caller

_lock = threading.RLock()

_OPERATIONS = frozenset(
    {
        "GetServiceQuota",
        "ListServiceQuotas",
        "GetAWSDefaultServiceQuota",
        "ListAWSDefaultServiceQuotas",
        "RequestServiceQuotaIncrease",
        "GetRequestedServiceQuotaChange",
        "ListRequestedServiceQuotaChangeHistory",
        "ListRequestedServiceQuotaChangeHistoryByQuota",
    }
)


class QuotaError(Exception):
    """A Service Quotas error: ``code`` (the JSON ``__type``) and message, HTTP 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _no_such_resource() -> QuotaError:
    # moto's wording for an unknown service code, and what AWS says for an unknown quota code.
    return QuotaError(
        "NoSuchResourceException",
        "This service is not available in the current Region. Choose a different Region or a different service.",
    )


@dataclass
class _State:
    """One account's Service Quotas in one region: values set above the defaults, and the requests."""

    applied: dict[tuple[str, str], float] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


def _state(account: str, region: str) -> _State:
    """The state riding on moto's Service Quotas backend (so a sandbox reset clears it)."""
    from moto.servicequotas.models import servicequotas_backends

    try:
        backend = servicequotas_backends[account][region]
    except KeyError:
        raise _no_such_resource() from None
    state = getattr(backend, "sandbox_quotas", None)
    if state is None:
        state = _State()
        # Our record rides on moto's backend (so its reset clears it); moto declares no such attribute.
        backend.sandbox_quotas = state  # type: ignore[attr-defined]
    return state


@cache
def _catalogue() -> dict[str, dict[str, dict[str, Any]]]:
    """service code → quota code → the default quota (region and account filled in per answer)."""
    from moto.servicequotas.resources.default_quotas.vpc import VPC_DEFAULT_QUOTAS

    from assistant.planning.quotas import EKS_QUOTAS, SERVICE_CODE, SERVICE_NAME

    eks = {
        q.code: {
            "ServiceCode": SERVICE_CODE,
            "ServiceName": SERVICE_NAME,
            "QuotaCode": q.code,
            "QuotaName": q.name,
            "Value": float(q.default),
            "Unit": "None",
            "Adjustable": q.adjustable,
            "GlobalQuota": False,
            "Description": q.description,
        }
        for q in EKS_QUOTAS
    }
    vpc = {str(q["QuotaCode"]): {k: v for k, v in q.items() if k != "QuotaArn"} for q in VPC_DEFAULT_QUOTAS}
    return {SERVICE_CODE: eks, "vpc": vpc}


def _quota(service: str, code: str) -> dict[str, Any]:
    quotas = _catalogue().get(service)
    if quotas is None or code not in quotas:
        raise _no_such_resource()
    return quotas[code]


def _arn(account: str, region: str, service: str, code: str) -> str:
    from moto.utilities.utils import get_partition

    return f"arn:{get_partition(region)}:servicequotas:{region}:{account}:{service}/{code}"


def _default_view(account: str, region: str, service: str, code: str) -> dict[str, Any]:
    return {**_quota(service, code), "QuotaArn": _arn(account, region, service, code)}


def _applied_view(account: str, region: str, service: str, code: str) -> dict[str, Any]:
    view = _default_view(account, region, service, code)
    view["Value"] = _state(account, region).applied.get((service, code), view["Value"])
    view["QuotaAppliedAtLevel"] = "ACCOUNT"
    return view


def applied_value(account: str, region: str, service: str, code: str) -> int:
    """The value a quota has for ``account`` in ``region`` now (what the EKS front enforces).

    A region Service Quotas does not serve has the default.
    """
    with _lock:
        try:
            return int(_applied_view(account, region, service, code)["Value"])
        except QuotaError:
            return int(_quota(service, code)["Value"])


def set_value(account: str, region: str, service: str, code: str, value: float) -> None:
    """Set a quota's value directly, up or down (a sandbox control; an account can only request increases)."""
    _quota(service, code)
    with _lock:
        _state(account, region).applied[(service, code)] = float(value)


# -- the API -------------------------------------------------------------------------------------


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(str(token).encode()).decode())
        except ValueError:
            raise QuotaError("InvalidPaginationTokenException", "Invalid input was provided.") from None
    limit = int(params.get("MaxResults") or 100)
    if not 1 <= limit <= 100:
        raise QuotaError("IllegalArgumentException", "MaxResults must be between 1 and 100.")
    end = start + limit
    return items[start:end], (base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None)


def _required(params: dict[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise QuotaError("IllegalArgumentException", f"Missing required parameter: {', '.join(missing)}")
    return [str(params[n]) for n in names]


def _request_increase(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    service, code = _required(params, "ServiceCode", "QuotaCode")
    try:
        desired = float(params["DesiredValue"])
    except (KeyError, TypeError, ValueError):
        raise QuotaError("IllegalArgumentException", "DesiredValue must be a number.") from None
    current = _applied_view(account, region, service, code)
    if not current["Adjustable"]:
        raise QuotaError("IllegalArgumentException", f"The quota {code} for {service} is not adjustable.")
    if desired <= current["Value"]:
        raise QuotaError("IllegalArgumentException", "You must provide a quota value greater than the current quota value")
    now = dt.datetime.now(dt.UTC)
    request = {
        "Id": uuid.uuid4().hex,
        "ServiceCode": service,
        "ServiceName": current["ServiceName"],
        "QuotaCode": code,
        "QuotaName": current["QuotaName"],
        "DesiredValue": desired,
        # No support case to wait for in a sandbox account: approved and applied at once.
        "Status": "APPROVED",
        "Created": now,
        "LastUpdated": now,
        "QuotaArn": current["QuotaArn"],
        "GlobalQuota": False,
        "Unit": current["Unit"],
        "QuotaRequestedAtLevel": "ACCOUNT",
    }
    state = _state(account, region)
    state.requests.append(request)
    state.applied[(service, code)] = desired
    return {"RequestedQuota": request}


def _dispatch(operation: str, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    if operation == "GetServiceQuota":
        service, code = _required(params, "ServiceCode", "QuotaCode")
        return {"Quota": _applied_view(account, region, service, code)}
    if operation == "GetAWSDefaultServiceQuota":
        service, code = _required(params, "ServiceCode", "QuotaCode")
        return {"Quota": _default_view(account, region, service, code)}
    if operation in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        (service,) = _required(params, "ServiceCode")
        if service not in _catalogue():
            raise _no_such_resource()
        view = _applied_view if operation == "ListServiceQuotas" else _default_view
        codes = [params["QuotaCode"]] if params.get("QuotaCode") else sorted(_catalogue()[service])
        quotas, token = _page([view(account, region, service, c) for c in codes], params)
        return {"Quotas": quotas, "NextToken": token}
    if operation == "RequestServiceQuotaIncrease":
        return _request_increase(account, region, params)
    requests = _state(account, region).requests
    if operation == "GetRequestedServiceQuotaChange":
        (request_id,) = _required(params, "RequestId")
        found = next((r for r in requests if r["Id"] == request_id), None)
        if found is None:
            raise _no_such_resource()
        return {"RequestedQuota": found}
    # The two history listings.
    if operation == "ListRequestedServiceQuotaChangeHistoryByQuota":
        _required(params, "ServiceCode", "QuotaCode")
    picked = [r for r in requests if all(not params.get(k) or r[k] == params[k] for k in ("ServiceCode", "QuotaCode", "Status"))]
    listed, token = _page(list(reversed(picked)), params)
    return {"RequestedQuotas": listed, "NextToken": token}


@cache
def _service_model() -> Any:
    from moto.core.utils import get_service_model

    return get_service_model("service-quotas")


def _ok(operation: str, result: dict[str, Any]) -> Response:
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class

    serializer = get_serializer_class("service-quotas", "json")(
        operation_model=_service_model().operation_model(operation), value_picker=XFormedAttributePicker()
    )
    serialized = serializer.serialize({k: v for k, v in result.items() if v is not None})
    headers = {k: str(v) for k, v in serialized["headers"].items()}
    headers.setdefault("Content-Type", "application/x-amz-json-1.1")
    headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
    return Response(serialized["body"], status=int(serialized["status_code"]), headers=headers)


def handle(environ: dict[str, Any], body: bytes) -> Response:
    """Answer one Service Quotas request (JSON 1.1, ``X-Amz-Target: ServiceQuotasV20190624.<Operation>``)."""
    operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rsplit(".", 1)[-1]
    if operation not in _OPERATIONS:
        return aws_errors.error_response(
            "json",
            400,
            "UnknownOperationException",
            f"The eks-assist sandbox does not serve Service Quotas {operation or '(no operation)'}",
        )
    try:
        params = json.loads(body) if body.strip() else {}
        if not isinstance(params, dict):
            raise ValueError("not an object")
    except ValueError:
        return aws_errors.error_response("json", 400, "SerializationException", "The request body is not a JSON object")
    _access_key, account, region = caller(environ)
    try:
        with _lock:
            result = _dispatch(operation, account, region, params)
            return _ok(operation, result)
    except QuotaError as exc:
        return aws_errors.error_response("json", 400, exc.code, exc.message)


def handle_control(request: Request) -> Response:
    """``GET /_sandbox/quotas?region=R[&account=A]`` lists EKS's values; ``POST`` sets some, either way.

    POST body: ``{"region": "us-east-1", "account": "123456789012" (optional), "service": "eks"
    (optional), "quotas": {"L-6D54EA21": 40}}``.
    """
    from moto.core.models import DEFAULT_ACCOUNT_ID

    from assistant.planning.quotas import SERVICE_CODE

    def answer(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, indent=2, sort_keys=True), status, mimetype="application/json")

    try:
        if request.method == "GET":
            region = request.args.get("region", "us-east-1")
            account = request.args.get("account", DEFAULT_ACCOUNT_ID)
            service = request.args.get("service", SERVICE_CODE)
        elif request.method in ("POST", "PUT"):
            data = json.loads(request.get_data() or b"{}")
            if not isinstance(data, dict) or not isinstance(data.get("quotas"), dict) or not data.get("region"):
                raise ValueError('the body must be {"region": ..., "quotas": {"L-...": value}}')
            region, account = str(data["region"]), str(data.get("account") or DEFAULT_ACCOUNT_ID)
            service = str(data.get("service") or SERVICE_CODE)
            for code, value in data["quotas"].items():
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"{code}: the value must be a number >= 0")
                set_value(account, region, service, str(code), float(value))
        else:
            return answer({"error": f"no such sandbox endpoint: {request.method} {request.path}"}, 404)
        with _lock:
            values = {
                code: _applied_view(account, region, service, code)["Value"] for code in sorted(_catalogue().get(service, {}))
            }
        return answer({"account": account, "region": region, "service": service, "quotas": values})
    except (ValueError, TypeError) as exc:
        return answer({"error": str(exc)}, 400)
    except QuotaError as exc:
        return answer({"error": f"{exc.code}: {exc.message}"}, 400)
