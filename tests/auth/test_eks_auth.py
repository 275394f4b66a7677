"""The sandbox authenticates like EKS: verified tokens, then aws-auth or access entries."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import urllib3
import yaml

from assistant.identity import tokens as kubeauth
from assistant.sandbox import Sandbox
from assistant.sandbox.eks_auth import AuthError, EksAuthenticator, canonical_arn
from assistant.sandbox.sandbox import ACCESS_KEY_ID, SECRET_ACCESS_KEY

ACCOUNT = "123456789012"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
    }
)


@dataclass
class Env:
    """A running sandbox, an admin session and a cluster per authentication mode."""

    sandbox: Sandbox
    admin: boto3.Session
    endpoints: dict[str, str]  # mode -> cluster endpoint
    http: urllib3.PoolManager

    def client(self, service: str, session: boto3.Session | None = None) -> Any:
        return (session or self.admin).client(service, endpoint_url=self.sandbox.aws_url)

    def session(self, key: str, secret: str, token: str | None = None) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name="us-east-1"
        )

    def token(self, cluster: str, session: boto3.Session | None = None) -> str:
        return kubeauth.get_token(session or self.admin, "us-east-1", cluster, endpoint_url=self.sandbox.aws_url).token

    def call(
        self, cluster: str, token: str | None, method: str = "GET", path: str = "/api/v1/namespaces", body: Any = None
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body) if body is not None else None
        return self.http.request(method, self.endpoints[cluster] + path, body=data, headers=headers)

    def whoami(self, cluster: str, token: str | None) -> tuple[int, dict[str, Any]]:
        r = self.call(
            cluster,
            token,
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
        data = json.loads(r.data)
        return r.status, data["status"]["userInfo"] if r.status == 201 else data

    def aws_auth(self, cluster: str, **data: Any) -> None:
        """Create or replace kube-system/aws-auth as the cluster creator."""
        admin = self.token(cluster)
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {k: yaml.safe_dump(v) for k, v in data.items()},
        }
        r = self.call(cluster, admin, "GET", "/api/v1/namespaces/kube-system/configmaps/aws-auth")
        if r.status == 404:
            r = self.call(cluster, admin, "POST", "/api/v1/namespaces/kube-system/configmaps", body)
        else:
            r = self.call(cluster, admin, "PUT", "/api/v1/namespaces/kube-system/configmaps/aws-auth", body)
        assert r.status in (200, 201), r.data


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    with Sandbox(latency="none", port=0, k8s_port=0) as sb:
        admin = boto3.Session(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name="us-east-1")
        iam, ec2, eks = (admin.client(s, endpoint_url=sb.aws_url) for s in ("iam", "ec2", "eks"))
        role = iam.create_role(RoleName="auth-cluster", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
            for i, z in enumerate("ab")
        ]
        endpoints = {}
        for mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API"):
            eks.create_cluster(
                name=mode.lower().replace("_", "-"),
                roleArn=role,
                resourcesVpcConfig={"subnetIds": subnets},
                accessConfig={"authenticationMode": mode},
            )
        for mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API"):
            name = mode.lower().replace("_", "-")
            deadline = time.monotonic() + 30
            while (c := eks.describe_cluster(name=name)["cluster"])["status"] != "ACTIVE":
                assert time.monotonic() < deadline, "cluster never became ACTIVE"
                time.sleep(0.05)
            assert base64.b64decode(c["certificateAuthority"]["data"]).decode() == sb.ca_pem
            endpoints[name] = c["endpoint"]
        http = urllib3.PoolManager(ssl_context=ssl.create_default_context(cadata=sb.ca_pem))
        yield Env(sb, admin, endpoints, http)
        http.clear()


def _new_user(env: Env, name: str) -> tuple[str, boto3.Session]:
    iam = env.client("iam")
    arn = iam.create_user(UserName=name, Path="/people/")["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, env.session(key["AccessKeyId"], key["SecretAccessKey"])


def _assume(env: Env, role: str, session_name: str) -> boto3.Session:
    creds = env.client("sts").assume_role(RoleArn=role, RoleSessionName=session_name)["Credentials"]
    return env.session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_creator_is_admin_in_config_map_mode(env: Env) -> None:
    status, user = env.whoami("config-map", env.token("config-map"))
    assert status == 201
    assert (user["username"], user["groups"]) == ("kubernetes-admin", ["system:masters", "system:authenticated"])
    assert user["extra"]["canonicalArn"] == [f"arn:aws:iam::{ACCOUNT}:user/moto"]
    assert env.call("config-map", env.token("config-map")).status == 200


def test_creator_is_mapped_by_its_access_entry_in_api_modes(env: Env) -> None:
    for cluster in ("api-and-config-map", "api"):
        status, user = env.whoami(cluster, env.token(cluster))
        assert status == 201, user
        # EKS's bootstrap entry: the principal's ARN, and admin through AmazonEKSClusterAdminPolicy (no groups).
        assert (user["username"], user["groups"]) == (f"arn:aws:iam::{ACCOUNT}:user/moto", ["system:authenticated"])
    # without the entry the creator is nobody
    eks = env.client("eks")
    eks.delete_access_entry(clusterName="api", principalArn=f"arn:aws:iam::{ACCOUNT}:user/moto")
    try:
        assert env.whoami("api", env.token("api"))[0] == 401
    finally:
        eks.create_access_entry(clusterName="api", principalArn=f"arn:aws:iam::{ACCOUNT}:user/moto")


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-token",
        "k8s-aws-v1.!!!",
        "k8s-aws-v1." + base64.urlsafe_b64encode(b"https://example.com/?Action=GetCallerIdentity").decode(),
    ],
    ids=["none", "empty", "garbage", "bad-base64", "not-signed"],
)
def test_bad_tokens_get_401(env: Env, token: str | None) -> None:
    r = env.call("config-map", token)
    assert r.status == 401
    status = json.loads(r.data)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Unauthorized", 401)


def test_a_token_for_another_cluster_gets_401(env: Env) -> None:
    assert env.call("config-map", env.token("api")).status == 401
    assert env.call("config-map", env.token("config-map")).status == 200


def test_a_tampered_token_gets_401(env: Env) -> None:
    url = kubeauth.decode(env.token("config-map"))
    for find, replace in (("X-Amz-Signature=", "X-Amz-Signature=0"), ("X-Amz-Expires=60", "X-Amz-Expires=61")):
        forged = url.replace(find, replace)
        token = "k8s-aws-v1." + base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
        assert env.call("config-map", token).status == 401


def test_expiry_follows_the_injected_clock(env: Env) -> None:
    token = env.token("config-map")
    ref = env.sandbox._kube.cluster(env.endpoints["config-map"].rsplit("/", 1)[1]).ref  # type: ignore[union-attr]
    now = dt.datetime.now(dt.UTC)

    def auth(at: dt.datetime) -> EksAuthenticator:
        return EksAuthenticator(
            env.sandbox._kube, clock=lambda: at, default_keys={ACCESS_KEY_ID: SECRET_ACCESS_KEY}, sts_hosts=env.sandbox._sts_hosts
        )

    assert auth(now + dt.timedelta(minutes=14)).authenticate(ref, token).username == "kubernetes-admin"
    with pytest.raises(AuthError, match="token expired"):
        auth(now + dt.timedelta(minutes=16)).authenticate(ref, token)
    with pytest.raises(AuthError, match="dated in the future"):
        auth(now - dt.timedelta(minutes=10)).authenticate(ref, token)


def test_unmapped_user_gets_401_until_mapped_in_aws_auth(env: Env) -> None:
    arn, bob = _new_user(env, "bob")
    assert env.call("config-map", env.token("config-map", bob)).status == 401
    # aws-auth matches user ARNs with or without their IAM path
    env.aws_auth(
        "config-map",
        mapUsers=[{"userarn": arn, "username": "bob", "groups": ["devs", "viewers"]}],
    )
    status, user = env.whoami("config-map", env.token("config-map", bob))
    assert status == 201
    assert (user["username"], user["groups"]) == ("bob", ["devs", "viewers", "system:authenticated"])
    assert user["uid"].startswith(f"aws-iam-authenticator:{ACCOUNT}:")
    # a deactivated key no longer signs valid tokens
    key = bob.get_credentials().access_key
    env.client("iam").update_access_key(UserName="bob", AccessKeyId=key, Status="Inactive")
    assert env.call("config-map", env.token("config-map", bob)).status == 401


def test_assumed_roles_match_map_roles_with_templates(env: Env) -> None:
    iam = env.client("iam")
    role = iam.create_role(RoleName="deployer", Path="/ci/", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    assert role == f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
    session = _assume(env, role, "alice@example.com")
    assert env.call("api-and-config-map", env.token("api-and-config-map", session)).status == 401
    env.aws_auth(
        "api-and-config-map",
        mapRoles=[
            {
                "rolearn": f"arn:aws:iam::{ACCOUNT}:role/deployer",
                "username": "ci:{{SessionName}}:{{AccountID}}",
                "groups": ["deployers"],
            }
        ],
    )
    status, user = env.whoami("api-and-config-map", env.token("api-and-config-map", session))
    assert status == 201
    assert (user["username"], user["groups"]) == (f"ci:alice-example.com:{ACCOUNT}", ["deployers", "system:authenticated"])
    assert user["extra"]["sessionName"] == ["alice@example.com"]
    assert user["extra"]["arn"] == [f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice@example.com"]
    # API mode ignores aws-auth altogether
    env.aws_auth("api", mapRoles=[{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/deployer", "username": "x", "groups": ["y"]}])
    assert env.call("api", env.token("api", session)).status == 401


def test_access_entries_map_callers_in_api_modes(env: Env) -> None:
    arn, carol = _new_user(env, "carol")
    eks = env.client("eks")
    for cluster in ("api", "api-and-config-map"):
        assert env.call(cluster, env.token(cluster, carol)).status == 401
        eks.create_access_entry(clusterName=cluster, principalArn=arn, username="carol", kubernetesGroups=["platform"])
        status, user = env.whoami(cluster, env.token(cluster, carol))
        assert (status, user["username"], user["groups"]) == (201, "carol", ["platform", "system:authenticated"])
    # in API_AND_CONFIG_MAP an access entry wins over aws-auth for the same principal
    env.aws_auth("api-and-config-map", mapUsers=[{"userarn": arn, "username": "carol-from-aws-auth", "groups": ["other"]}])
    assert env.whoami("api-and-config-map", env.token("api-and-config-map", carol))[1]["username"] == "carol"
    # role entries get EKS's default username for roles
    role = env.client("iam").create_role(RoleName="reader", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    eks.create_access_entry(clusterName="api", principalArn=role)
    status, user = env.whoami("api", env.token("api", _assume(env, role, "s1")))
    assert (status, user["username"]) == (201, f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1")


def test_map_accounts_admits_every_principal_of_the_account(env: Env) -> None:
    _arn, dave = _new_user(env, "dave")
    assert env.call("config-map", env.token("config-map", dave)).status == 401
    env.aws_auth("config-map", mapAccounts=[ACCOUNT])
    status, user = env.whoami("config-map", env.token("config-map", dave))
    assert (status, user["username"], user["groups"]) == (
        201,
        f"arn:aws:iam::{ACCOUNT}:user/people/dave",
        ["system:authenticated"],
    )
    env.aws_auth("config-map", mapAccounts=[])
    assert env.call("config-map", env.token("config-map", dave)).status == 401


def test_canonical_arn() -> None:
    assert canonical_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s") == f"arn:aws:iam::{ACCOUNT}:role/R"
    assert canonical_arn(f"arn:aws:iam::{ACCOUNT}:role/a/b/R") == f"arn:aws:iam::{ACCOUNT}:role/R"
    assert canonical_arn(f"arn:aws:iam::{ACCOUNT}:user/p/u") == f"arn:aws:iam::{ACCOUNT}:user/u"
    assert canonical_arn(f"arn:aws:sts::{ACCOUNT}:user/moto") == f"arn:aws:iam::{ACCOUNT}:user/moto"


def test_node_role_sessions_get_the_instance_dns_name(env: Env) -> None:
    ec2, iam = env.client("ec2"), env.client("iam")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m5.large")["Instances"][0]
    role = iam.create_role(RoleName="auth-node", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    env.aws_auth(
        "config-map",
        mapRoles=[
            {"rolearn": role, "username": "system:node:{{EC2PrivateDNSName}}", "groups": ["system:bootstrappers", "system:nodes"]}
        ],
    )
    status, user = env.whoami("config-map", env.token("config-map", _assume(env, role, instance["InstanceId"])))
    assert (status, user["username"]) == (201, f"system:node:{instance['PrivateDnsName']}")
    assert user["groups"] == ["system:bootstrappers", "system:nodes", "system:authenticated"]
    # a session that is not an instance cannot fill the template
    assert env.call("config-map", env.token("config-map", _assume(env, role, "not-an-instance"))).status == 401
