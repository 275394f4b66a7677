"""The sandbox's Kubernetes authenticator: verifies EKS bearer tokens and maps callers like EKS.

A token is ``k8s-aws-v1.`` + base64url of a presigned STS GetCallerIdentity URL with the header
``x-k8s-aws-id: <cluster>`` signed in. Replaying the URL against moto does not work (an unsigned
GET is routed to S3, see DESIGN.md "Presigned requests"), so it is verified in-process:

1. the URL must be a SigV4-presigned GetCallerIdentity for STS, signing ``host`` and
   ``x-k8s-aws-id``, dated within the last 15 minutes;
2. the signature is recomputed with the header set to *this* cluster's name and the secret the
   sandbox holds for the access key (its own key, IAM user keys, STS temporary keys), so a
   token for another cluster or with a forged signature fails;
3. moto's STS backend names the caller (``get_caller_identity``), which is then mapped to a
   Kubernetes user as the cluster's authentication mode allows: access entries (API modes),
   ``aws-auth`` ``mapRoles``/``mapUsers``/``mapAccounts`` (CONFIG_MAP modes), and, in
   CONFIG_MAP mode only, the cluster creator as ``kubernetes-admin`` in ``system:masters``.

Anything else is a 401.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit

import yaml

from assistant.identity.tokens import CLUSTER_ID_HEADER, decode
from assistant.sandbox.k8s.auth import ClusterRef, UserInfo

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from assistant.sandbox.k8s.server import KubeApiServer

from assistant.sandbox.eks.front import EksFront

# aws-iam-authenticator accepts a presigned URL for 15 minutes after X-Amz-Date, whatever
# X-Amz-Expires says (the token generators presign for 60 s); expiries above 15 min are refused.
TOKEN_WINDOW = dt.timedelta(minutes=15)
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
AUTHENTICATED = "system:authenticated"
CREATOR = UserInfo("kubernetes-admin", ("system:masters", AUTHENTICATED))
_STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
_ASSUMED = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")
_IAM = re.compile(r"^arn:([^:]+):(?:iam|sts)::(\d{12}):(user|role)/(?:.*/)?([^/]+)$")
_SIGNED_HEADERS = {"host", CLUSTER_ID_HEADER}


class AuthError(Exception):
    """Why a token was refused (the API server answers 401 either way)."""


@dataclass(frozen=True)
class Caller:
    """Who signed a token, per moto's STS."""

    arn: str  # as STS reports it: an IAM user, or arn:aws:sts::A:assumed-role/R/S
    canonical_arn: str  # the IAM principal: arn:aws:iam::A:user/U or arn:aws:iam::A:role/R (no path)
    account: str
    user_id: str
    access_key_id: str
    session_name: str = ""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret: str, date: str, region: str, service: str, string_to_sign: str) -> str:
    """The SigV4 signature of ``string_to_sign``."""
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _canonical_host(scheme: str, netloc: str) -> str:
    host = netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    return host[: -len(default)] if default and host.endswith(default) else host


def canonical_arn(arn: str) -> str:
    """The IAM principal behind an STS ARN, without path: what aws-auth and access entries match on."""
    assumed = _ASSUMED.match(arn)
    if assumed:
        return f"arn:{assumed.group(1)}:iam::{assumed.group(2)}:role/{assumed.group(3)}"
    plain = _IAM.match(arn)
    if plain:
        return f"arn:{plain.group(1)}:iam::{plain.group(2)}:{plain.group(3)}/{plain.group(4)}"
    return arn


class EksAuthenticator:
    """An ``Authenticator`` for :class:`~assistant.sandbox.k8s.server.KubeApiServer` that works like EKS.

    ``clock`` returns the current UTC time (tests inject one); ``kube`` gives access to each
    cluster's aws-auth; ``lock`` is the EKS front's lock, held while reading EKS state.
    """

    def __init__(
        self,
        kube: KubeApiServer | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        lock: threading.RLock | None = None,
        default_keys: dict[str, str] | None = None,
        sts_hosts: Callable[[], set[str]] | None = None,
    ) -> None:
        self.kube = kube
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.lock = lock
        # The sandbox's own key pair is not an IAM key, so moto cannot name its secret.
        self.default_keys = dict(default_keys or {})
        self.sts_hosts = sts_hosts or (lambda: set())

    def __call__(self, cluster: ClusterRef, token: str | None) -> UserInfo | None:
        try:
            return self.authenticate(cluster, token)
        except AuthError:
            return None

    def _locked(self) -> AbstractContextManager[Any]:
        return self.lock if self.lock is not None else nullcontext()

    # -- the token -------------------------------------------------------------------------------

    def verify(self, cluster: ClusterRef, token: str | None) -> Caller:
        """The caller who signed ``token`` for ``cluster``; AuthError if it is not valid."""
        if not token:
            raise AuthError("no bearer token")
        try:
            url = decode(token)
        except ValueError as exc:
            raise AuthError(str(exc)) from None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.path not in ("", "/"):
            raise AuthError("not an STS URL")
        host = _canonical_host(parts.scheme, parts.netloc)
        if not (_STS_HOST.match(parts.hostname or "") or host in self.sts_hosts()):
            raise AuthError(f"host {host} is not an STS endpoint")
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query: dict[str, str] = {}
        for key, value in pairs:
            if key in query:
                raise AuthError(f"repeated query parameter {key}")
            query[key] = value
        if query.get("Action") != "GetCallerIdentity":
            raise AuthError("not a GetCallerIdentity request")
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise AuthError("not signed with SigV4")
        signed = query.get("X-Amz-SignedHeaders", "").split(";")
        if CLUSTER_ID_HEADER not in signed or set(signed) != _SIGNED_HEADERS:
            raise AuthError(f"the signed headers must be host and {CLUSTER_ID_HEADER}")
        try:
            access_key, date, region, service, terminator = query["X-Amz-Credential"].split("/")
            issued = dt.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            expires = int(query["X-Amz-Expires"])
        except (KeyError, ValueError):
            raise AuthError("malformed X-Amz-Credential, X-Amz-Date or X-Amz-Expires") from None
        if service != "sts" or terminator != "aws4_request" or date != query["X-Amz-Date"][:8]:
            raise AuthError("the credential scope is not STS's")
        if not 0 < expires <= TOKEN_WINDOW.total_seconds():
            raise AuthError("X-Amz-Expires must be between 1 and 900 seconds")
        now = _utc(self.clock())
        if now > issued + TOKEN_WINDOW:
            raise AuthError("token expired")
        if issued > now + MAX_CLOCK_SKEW:
            raise AuthError("token is dated in the future")
        secret, session_token = self._secret(access_key, now)
        if session_token is not None and query.get("X-Amz-Security-Token") != session_token:
            raise AuthError("wrong or missing session token")
        canonical_query = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs) if k != "X-Amz-Signature"
        )
        # The header's value is not in the URL: sign with this cluster's name, so a token
        # minted for another cluster does not verify here.
        headers = f"host:{host}\n{CLUSTER_ID_HEADER}:{cluster.name}\n"
        scope = f"{date}/{region}/sts/aws4_request"
        given = query.get("X-Amz-Signature", "")
        for payload in ("UNSIGNED-PAYLOAD", hashlib.sha256(b"").hexdigest()):
            request = f"GET\n/\n{canonical_query}\n{headers}\nhost;{CLUSTER_ID_HEADER}\n{payload}"
            to_sign = f"AWS4-HMAC-SHA256\n{query['X-Amz-Date']}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
            if hmac.compare_digest(signature(secret, date, region, "sts", to_sign), given):
                break
        else:
            raise AuthError("signature does not match (wrong cluster, secret or request)")
        return self._caller(access_key, region)

    def _secret(self, access_key: str, now: dt.datetime) -> tuple[str, str | None]:
        """(secret, session token or None) for an access key the sandbox knows."""
        if access_key in self.default_keys:
            return self.default_keys[access_key], None
        from moto.iam.models import get_account_id_from, iam_backends
        from moto.sts.models import sts_backends

        account = get_account_id_from(access_key)
        for partition in list(iam_backends[account].keys()):
            key = iam_backends[account][partition].access_keys.get(access_key)
            if key is None:
                continue
            if key.status != "Active":
                raise AuthError("access key is inactive")
            assumed = sts_backends[account][partition].get_assumed_role_from_access_key(access_key)
            if assumed is not None:
                if _utc(assumed.expiration) < now:
                    raise AuthError("temporary credentials expired")
                return assumed.secret_access_key, assumed.session_token
            return str(key.secret_access_key), None
        raise AuthError("unknown access key")

    def _caller(self, access_key: str, region: str) -> Caller:
        from moto.iam.models import get_account_id_from
        from moto.sts.models import sts_backends
        from moto.utilities.utils import get_partition

        account = get_account_id_from(access_key)
        user_id, arn, account = sts_backends[account][get_partition(region)].get_caller_identity(access_key, region)
        assumed = _ASSUMED.match(arn)
        return Caller(arn, canonical_arn(arn), account, user_id, access_key, assumed.group(4) if assumed else "")

    # -- the mapping -----------------------------------------------------------------------------

    def authenticate(self, cluster: ClusterRef, token: str | None) -> UserInfo:
        """The Kubernetes user for a token; AuthError if it is invalid or the caller is not mapped."""
        caller = self.verify(cluster, token)
        with self._locked():
            mode, creator, entries = self._eks_state(cluster)
        if mode in ("API", "API_AND_CONFIG_MAP"):
            entry = next((e for arn, e in entries.items() if canonical_arn(arn) == caller.canonical_arn), None)
            if entry is not None:
                return self._user(caller, entry.username, entry.kubernetes_groups)
        if mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
            if mode == "CONFIG_MAP" and creator is not None and canonical_arn(creator) == caller.canonical_arn:
                return self._user(caller, CREATOR.username, list(CREATOR.groups))
            mapped = self._aws_auth(cluster, caller)
            if mapped is not None:
                return mapped
        raise AuthError(f"{caller.arn} is not mapped to a Kubernetes user in this cluster")

    def _eks_state(self, cluster: ClusterRef) -> tuple[str, str | None, dict[str, Any]]:
        from moto.eks.models import eks_backends

        from assistant.sandbox.eks.state import extras

        found = eks_backends[cluster.account_id][cluster.region].clusters.get(cluster.name)
        if found is None or found.arn != cluster.arn:
            raise AuthError("no such cluster")
        mode = (getattr(found, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
        return mode, getattr(found, "sandbox_creator_arn", None), dict(extras(found).access_entries)

    def _aws_auth(self, cluster: ClusterRef, caller: Caller) -> UserInfo | None:
        from assistant.sandbox.k8s.resources import by_kind

        api = self.kube.cluster(cluster.api_id) if self.kube is not None else None
        if api is None:
            return None
        configmap = api.store.find(by_kind("ConfigMap"), "kube-system", "aws-auth")
        data = (configmap or {}).get("data") or {}
        assumed = caller.arn != caller.canonical_arn and ":role/" in caller.canonical_arn
        if assumed:
            for role in _yaml_list(data.get("mapRoles")):
                if canonical_arn(str(role.get("rolearn", ""))) == caller.canonical_arn:
                    return self._user(caller, role.get("username"), role.get("groups"))
        else:
            for user in _yaml_list(data.get("mapUsers")):
                if canonical_arn(str(user.get("userarn", ""))) == caller.canonical_arn:
                    return self._user(caller, user.get("username"), user.get("groups"))
        if caller.account in [str(a) for a in _yaml_list(data.get("mapAccounts"), scalars=True)]:
            return self._user(caller, caller.arn, [])
        return None

    def _user(self, caller: Caller, username: Any, groups: Any) -> UserInfo:
        name = self._render(str(username or caller.arn), caller)
        group_list = [str(g) for g in (groups or []) if g]
        if AUTHENTICATED not in group_list:
            group_list.append(AUTHENTICATED)
        extra = {
            "accessKeyId": (caller.access_key_id,),
            "arn": (caller.arn,),
            "canonicalArn": (caller.canonical_arn,),
            "principalId": (caller.user_id,),
        }
        if caller.session_name:
            extra["sessionName"] = (caller.session_name,)
        return UserInfo(name, tuple(group_list), uid=f"aws-iam-authenticator:{caller.account}:{caller.user_id}", extra=extra)

    def _render(self, template: str, caller: Caller) -> str:
        """Fill ``{{AccountID}}``, ``{{SessionName}}``, ``{{SessionNameRaw}}``, ``{{AccessKeyID}}``, ``{{EC2PrivateDNSName}}``."""
        out = template.replace("{{AccountID}}", caller.account).replace("{{AccessKeyID}}", caller.access_key_id)
        # Like aws-iam-authenticator: '@' in session names (emails) is not valid in a username.
        out = out.replace("{{SessionNameRaw}}", caller.session_name).replace(
            "{{SessionName}}", caller.session_name.replace("@", "-")
        )
        if "{{EC2PrivateDNSName}}" in out:
            out = out.replace("{{EC2PrivateDNSName}}", self._private_dns(caller))
        if "{{" in out:
            raise AuthError(f"cannot fill the username template {template!r}")
        return out

    def _private_dns(self, caller: Caller) -> str:
        """The private DNS name of the EC2 instance whose role session this is (session name = instance id)."""
        from moto.ec2.models import ec2_backends

        for backend in list(ec2_backends[caller.account].values()):
            for reservation in list(backend.reservations.values()):
                for instance in reservation.instances:
                    if instance.id == caller.session_name:
                        return str(instance.private_dns_name)
        raise AuthError("no EC2 instance for this session; {{EC2PrivateDNSName}} cannot be filled")


def _yaml_list(text: Any, scalars: bool = False) -> list[Any]:
    """One aws-auth key (a YAML string holding a list); malformed text maps nobody, as in EKS."""
    if not text:
        return []
    try:
        loaded = yaml.safe_load(str(text))
    except yaml.YAMLError:
        return []
    if not isinstance(loaded, list):
        return []
    return [item for item in loaded if (not isinstance(item, dict)) == scalars]


class CreatorRecordingEksFront(EksFront):
    """The EKS front, plus who created each cluster: EKS makes that principal admin in CONFIG_MAP mode."""

    def __call__(self, environ: dict[str, Any], body: bytes) -> Response:
        response = super().__call__(environ, body)
        if response.status_code == 200 and environ.get("REQUEST_METHOD") == "POST":
            self._record(environ, response)
        return response

    def _record(self, environ: dict[str, Any], response: Response) -> None:
        import json

        from moto.eks.models import eks_backends
        from moto.iam.models import get_account_id_from
        from moto.sts.models import sts_backends
        from moto.utilities.utils import get_partition

        from assistant.sandbox.caller import caller
        from assistant.sandbox.eks.request import match_operation

        matched = match_operation("POST", environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
        if matched is None or matched[0] != "CreateCluster":
            return
        try:
            name = json.loads(response.get_data())["cluster"]["name"]
        except (ValueError, KeyError, TypeError):
            return
        access_key, account, region = caller(environ)
        with self.lock:
            cluster = eks_backends[account][region].clusters.get(name)
            if cluster is None or getattr(cluster, "sandbox_creator_arn", None):
                return  # a retried create keeps its first creator
            key_account = get_account_id_from(access_key)
            _uid, arn, _acct = sts_backends[key_account][get_partition(region)].get_caller_identity(access_key, region)
            # Our record rides on moto's Cluster (it goes with the cluster); moto declares no such attribute.
            cluster.sandbox_creator_arn = canonical_arn(arn)  # type: ignore[attr-defined]
