"""Spec validation: each bad input gets exact, located messages; good specs parse with defaults."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import botocore
import botocore.session
import pytest
from pydantic import ValidationError

from assistant.errors import InputError
from assistant.spec import (
    AMI_TYPES,
    DEFAULT_VERSION,
    LOG_TYPES,
    ClusterSpec,
    LoadedSpec,
    Metadata,
    load_spec,
    loads_spec,
    parse_spec,
    spec_json_schema,
)
from assistant.spec.source import loads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _y(text: str) -> str:
    return textwrap.dedent(text)


def _problems(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        loads_spec(text, "spec.yaml")
    assert info.value.exit_code == 2
    return [str(p) for p in info.value.problems]


# Each case: the YAML as the user wrote it, and every message it must produce, exactly.
BAD_SPECS = [
    pytest.param(
        _y("""\
            - apiVersion: eks-assist/v1
            - kind: Cluster
            """),
        [
            "spec.yaml:1:1: spec must be a mapping (apiVersion, kind, metadata, ...), got a list",
        ],
        id="list_not_mapping",
    ),
    pytest.param(
        _y("""\
            just some text
            """),
        [
            ("spec.yaml:1:1: spec must be a mapping (apiVersion, kind, metadata, ...), got the text 'just some text'"),
        ],
        id="scalar_not_mapping",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v2
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            """),
        [
            "spec.yaml:1:13: apiVersion: must be 'eks-assist/v1', got the text 'eks-assist/v2'",
        ],
        id="wrong_api_version",
    ),
    pytest.param(
        _y("""\
            metadata: {name: demo, region: us-east-1}
            """),
        [
            "spec.yaml:1:1: missing required field 'apiVersion'",
            "spec.yaml:1:1: missing required field 'kind'",
        ],
        id="missing_api_version_and_kind",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: NodeGroup
            metadata: {name: demo, region: us-east-1}
            """),
        [
            "spec.yaml:2:7: kind: must be 'Cluster', got the text 'NodeGroup'",
        ],
        id="wrong_kind",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            worker: []
            """),
        [
            "spec.yaml:4:1: unknown field 'worker'; did you mean 'workers'?",
        ],
        id="unknown_top_level_field",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceType: m5.large
                instanceTypes: [m5.large]
            """),
        [
            "spec.yaml:6:5: workers[0]: unknown field 'instanceType'; did you mean 'instanceTypes'?",
        ],
        id="unknown_field_did_you_mean",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              colour: blue
            """),
        [
            (
                "spec.yaml:5:3: masters: unknown field 'colour' (valid fields: version, vpc, "
                "serviceCidr, endpoint, logging, secretsEncryption, authenticationMode)"
            ),
        ],
        id="unknown_field_lists_valid",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata:
              name: demo
            """),
        [
            "spec.yaml:3:1: metadata: missing required field 'region'",
        ],
        id="missing_region",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata:
              name: demo
              region:
            """),
        [
            "spec.yaml:5:10: metadata.region: expected a string, got nothing (an empty value)",
        ],
        id="empty_value",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: my cluster, region: us-east-1}
            """),
        [
            (
                "spec.yaml:3:18: metadata.name: cluster name must be 1-100 characters, start with a "
                "letter or digit, and contain only letters, digits, '-' and '_'; got 'my cluster' (' "
                "' at position 3 is not allowed)"
            ),
        ],
        id="cluster_name_space",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: -demo, region: us-east-1}
            """),
        [
            (
                "spec.yaml:3:18: metadata.name: cluster name must be 1-100 characters, start with a "
                "letter or digit, and contain only letters, digits, '-' and '_'; got '-demo' ('-' "
                "cannot come first)"
            ),
        ],
        id="cluster_name_leading_dash",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east}
            """),
        [
            ("spec.yaml:3:32: metadata.region: 'us-east' is not an AWS region name (like us-east-1, eu-west-2 or us-gov-west-1)"),
        ],
        id="bad_region",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1a}
            """),
        [
            ("spec.yaml:3:32: metadata.region: 'us-east-1a' is an Availability Zone, not a region; the region is 'us-east-1'"),
        ],
        id="region_is_an_az",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata:
              name: demo
              region: us-east-1
              tags: {cost-center: 1234}
            """),
        [
            ('spec.yaml:6:23: metadata.tags.cost-center: expected a string, got the number 1234; quote it: "1234"'),
        ],
        id="tag_value_number",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              version: 1.30
            """),
        [
            (
                "spec.yaml:5:12: masters.version: Kubernetes version must be a quoted string: YAML "
                'reads 1.30 as the number 1.3; write "1.30"'
            ),
        ],
        id="version_float",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              version: "1.33.1"
            """),
        [
            ('spec.yaml:5:12: masters.version: Kubernetes version must be "major.minor" like "1.33", got \'1.33.1\''),
        ],
        id="version_format",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create: {cidr: 10.0.0.0/33}
            """),
        [
            ("spec.yaml:6:20: masters.vpc.create.cidr: VPC CIDR '10.0.0.0/33' is not a valid IPv4 CIDR block (like 10.0.0.0/16)"),
        ],
        id="cidr_invalid",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create: {cidr: 10.0.0.1/16}
            """),
        [
            ("spec.yaml:6:20: masters.vpc.create.cidr: VPC CIDR '10.0.0.1/16' has host bits set; did you mean '10.0.0.0/16'?"),
        ],
        id="cidr_host_bits",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create: {cidr: 10.0.0.0/8}
            """),
        [
            ("spec.yaml:6:20: masters.vpc.create.cidr: VPC CIDR must be between /16 and /28 (AWS limits), got /8"),
        ],
        id="cidr_too_large",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create: {cidr: 10.0.0.0/16, azCount: 1}
            """),
        [
            (
                "spec.yaml:6:42: masters.vpc.create.azCount: EKS needs subnets in at least two "
                "Availability Zones; azCount must be at least 2, got 1"
            ),
        ],
        id="az_count_one",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create:
                  cidr: 10.0.0.0/16
                  subnetCidrs: [10.0.0.0/24, 10.1.0.0/24]
            """),
        [
            ("spec.yaml:8:34: masters.vpc.create.subnetCidrs[1]: subnet 10.1.0.0/24 is outside the VPC CIDR 10.0.0.0/16"),
        ],
        id="subnet_outside_vpc",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create:
                  cidr: 10.0.0.0/16
                  subnetCidrs: [10.0.0.0/20, 10.0.8.0/24]
            """),
        [
            ("spec.yaml:8:34: masters.vpc.create.subnetCidrs[1]: subnet 10.0.8.0/24 overlaps subnetCidrs[0] 10.0.0.0/20"),
        ],
        id="subnets_overlap",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create:
                  cidr: 10.0.0.0/16
                  azCount: 3
                  subnetCidrs: [10.0.0.0/24, 10.0.1.0/24]
            """),
        [
            (
                "spec.yaml:9:20: masters.vpc.create.subnetCidrs: 2 subnet CIDRs given but azCount is "
                "3; give exactly one per Availability Zone"
            ),
        ],
        id="subnet_count_vs_az_count",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc: {create: {cidr: 10.0.0.0/16}}
              serviceCidr: 10.0.0.0/20
            """),
        [
            (
                "spec.yaml:6:16: masters.serviceCidr: service CIDR 10.0.0.0/20 overlaps the VPC CIDR "
                "10.0.0.0/16 (masters.vpc.create.cidr)"
            ),
        ],
        id="service_cidr_overlaps_vpc",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              serviceCidr: 100.64.0.0/16
            """),
        [
            (
                "spec.yaml:5:16: masters.serviceCidr: service CIDR 100.64.0.0/16 must be inside a "
                "private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
            ),
        ],
        id="service_cidr_public",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                existing:
                  subnetIds: [subnet-0123456789abcdef0]
            """),
        [
            (
                "spec.yaml:7:18: masters.vpc.existing.subnetIds: EKS needs subnets in at least two "
                "Availability Zones; give at least 2 subnet IDs, got 1"
            ),
        ],
        id="existing_one_subnet",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create: {}
                existing: {subnetIds: [subnet-01234567, subnet-89abcdef]}
            """),
        [
            ("spec.yaml:6:5: masters.vpc: give exactly one of 'create' (a new VPC) or 'existing' (your subnets), not both"),
        ],
        id="vpc_both",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc: {}
            """),
        [
            "spec.yaml:5:8: masters.vpc: give one of 'create' (a new VPC) or 'existing' (your subnets)",
        ],
        id="vpc_neither",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              endpoint: {publicAccess: false, privateAccess: false}
            """),
        [
            (
                "spec.yaml:5:13: masters.endpoint: at least one of publicAccess or privateAccess must "
                "be true, or nothing can reach the API server"
            ),
        ],
        id="endpoint_no_access",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              endpoint:
                publicAccess: false
                privateAccess: true
                publicCidrs: [203.0.113.0/24]
            """),
        [
            "spec.yaml:8:18: masters.endpoint.publicCidrs: publicCidrs needs publicAccess: true",
        ],
        id="public_cidrs_without_public_access",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              endpoint: {publicAccess: "yes"}
            """),
        [
            "spec.yaml:5:28: masters.endpoint.publicAccess: expected true or false, got the text 'yes'",
        ],
        id="bool_given_text",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              secretsEncryption: {kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
            """),
        [
            (
                "spec.yaml:5:34: masters.secretsEncryption.kmsKeyArn: the KMS key is in eu-west-1 but "
                "the cluster is in us-east-1; EKS needs a key in the cluster's region"
            ),
        ],
        id="kms_region",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              name: general
            """),
        [
            "spec.yaml:5:3: workers: expected a list, got a mapping",
        ],
        id="workers_not_a_list",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: m5.large
            """),
        [
            "spec.yaml:6:20: workers[0].instanceTypes: expected a list, got the text 'm5.large'",
        ],
        id="instance_types_not_a_list",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5large]
            """),
        [
            (
                "spec.yaml:6:21: workers[0].instanceTypes[0]: 'm5large' is not an instance type name "
                "(like m5.large or p5.48xlarge)"
            ),
        ],
        id="instance_type_syntax",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general.purpose
                instanceTypes: [m5.large]
            """),
        [
            (
                "spec.yaml:5:11: workers[0].name: node group name must be 1-63 characters, start with "
                "a letter or digit, and contain only letters, digits, '-' and '_'; got "
                "'general.purpose' ('.' at position 8 is not allowed)"
            ),
        ],
        id="nodegroup_name_bad",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                diskSize: 20GB
            """),
        [
            "spec.yaml:7:15: workers[0].diskSize: expected a whole number, got the text '20GB'",
        ],
        id="disk_size_text",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                scaling: {min: 3, desired: 3, max: 2}
            """),
        [
            "spec.yaml:7:20: workers[0].scaling.min: min (3) is greater than max (2)",
        ],
        id="min_greater_than_max",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                scaling: {min: 1, desired: 5, max: 3}
            """),
        [
            "spec.yaml:7:32: workers[0].scaling.desired: desired (5) must be between min (1) and max (3)",
        ],
        id="desired_outside_range",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                scaling: {min: 1, desired: 1}
            """),
        [
            "spec.yaml:7:5: workers[0].scaling: missing required field 'max'",
        ],
        id="scaling_missing_max",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                customAmiId: ami-0123456789abcdef0
            """),
        [
            ("spec.yaml:7:18: workers[0].customAmiId: customAmiId needs amiType: CUSTOM (amiType is AL2023_x86_64_STANDARD)"),
        ],
        id="custom_ami_id_without_custom",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                amiType: CUSTOM
            """),
        [
            "spec.yaml:7:14: workers[0].amiType: amiType CUSTOM needs customAmiId (the AMI to launch)",
        ],
        id="custom_without_ami_id",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                amiType: AL2023_X86_64_STANDARD
            """),
        [
            (
                "spec.yaml:7:14: workers[0].amiType: unknown AMI type 'AL2023_X86_64_STANDARD'; did "
                "you mean 'AL2023_x86_64_STANDARD'?"
            ),
        ],
        id="ami_type_did_you_mean",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                amiType: AL2_x86_64
            """),
        [
            (
                "spec.yaml:7:14: workers[0].amiType: EKS publishes no Amazon Linux 2 AMIs for "
                "Kubernetes 1.33; use AL2023_x86_64_STANDARD"
            ),
        ],
        id="al2_on_1_33",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - {name: general, instanceTypes: [m5.large]}
              - {name: general, instanceTypes: [t3.medium]}
            """),
        [
            "spec.yaml:6:12: workers[1].name: duplicate node group name 'general' (also at workers[0])",
        ],
        id="duplicate_nodegroup_names",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                taints:
                  - {key: dedicated, value: gpu, effect: NO_SCHEDULE}
                  - {key: dedicated, value: cpu, effect: NO_SCHEDULE}
            """),
        [
            ("spec.yaml:9:9: workers[0].taints[1]: duplicate taint dedicated:NO_SCHEDULE (also at taints[0])"),
        ],
        id="duplicate_taints",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                taints: [{key: dedicated, effect: NoSchedule}]
            """),
        [
            ("spec.yaml:7:39: workers[0].taints[0].effect: unknown taint effect 'NoSchedule'; did you mean 'NO_SCHEDULE'?"),
        ],
        id="taint_effect_case",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                labels:
                  node.kubernetes.io/role: web
                  -team: a
                  gpu: true
                  ok: "no spaces"
            """),
        [
            (
                "spec.yaml:8:7: workers[0].labels: label key 'node.kubernetes.io/role': EKS reserves the "
                "kubernetes.io/, k8s.io/ and eks.amazonaws.com/ prefixes"
            ),
            (
                "spec.yaml:9:7: workers[0].labels: label key '-team' is not a valid Kubernetes key: "
                "the name part must be 1-63 characters of letters, digits, '-', '_' or '.', starting "
                "and ending with a letter or digit"
            ),
            ('spec.yaml:10:12: workers[0].labels.gpu: expected a string, got the boolean true; quote it: "true"'),
            (
                "spec.yaml:11:11: workers[0].labels.ok: label value 'no spaces' is not a valid "
                "Kubernetes label value: at most 63 characters of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            ),
        ],
        id="bad_label_keys",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                subnetIds: [subnet-0123456789abcdef0]
            """),
        [
            (
                "spec.yaml:7:16: workers[0].subnetIds: subnetIds need an existing VPC; with "
                "masters.vpc.create the node groups use the new subnets"
            ),
        ],
        id="nodegroup_subnets_with_new_vpc",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            iamMappings:
              - {arn: "arn:aws:iam::111122223333:user/bob", kind: role}
            """),
        [
            "spec.yaml:5:11: iamMappings[0].arn: kind is role but the ARN names an IAM user",
        ],
        id="iam_kind_mismatch",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters: {authenticationMode: API}
            iamMappings:
              - {arn: "arn:aws:iam::111122223333:role/admin", kind: role, via: aws-auth}
            """),
        [
            (
                "spec.yaml:6:68: iamMappings[0].via: authenticationMode API ignores aws-auth; use "
                "via: access-entry, or authenticationMode API_AND_CONFIG_MAP"
            ),
        ],
        id="aws_auth_in_api_mode",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            kubeconfig: {exec: kubectl}
            """),
        [
            "spec.yaml:4:20: kubeconfig.exec: unknown exec plugin 'kubectl' (one of: aws, builtin)",
        ],
        id="kubeconfig_exec",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            cni: {warmIpTarget: -1, prefixDelegation: "true"}
            """),
        [
            "spec.yaml:4:21: cni.warmIpTarget: must be at least 0, got the number -1",
            "spec.yaml:4:43: cni.prefixDelegation: expected true or false, got the text 'true'",
        ],
        id="cni_negative",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata:
              name: demo
              region: us-east-1
              tags:
                aws:owner: me
                eks-assist:plan: x
                cost: 12
                'a|b': x
            """),
        [
            "spec.yaml:7:5: metadata.tags: tag key 'aws:owner': the 'aws:' prefix is reserved by AWS",
            ("spec.yaml:8:5: metadata.tags: tag key 'eks-assist:plan': the 'eks-assist:' prefix is reserved for eks-assist"),
            'spec.yaml:9:11: metadata.tags.cost: expected a string, got the number 12; quote it: "12"',
            (
                "spec.yaml:10:5: metadata.tags: tag key 'a|b' may only contain letters, digits, "
                "spaces and _ . : / = + - @ ('|' at position 2 is not allowed)"
            ),
        ],
        id="tags_mixed",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              logging: [api, audit, api]
            """),
        [
            "spec.yaml:5:25: masters.logging[2]: duplicate log type 'api' (also at logging[0])",
        ],
        id="logging_duplicate",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              logging: [api, audti]
            """),
        [
            "spec.yaml:5:18: masters.logging[1]: unknown log type 'audti'; did you mean 'audit'?",
        ],
        id="logging_unknown",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata:
              name: demo!
              region: us-east-1
            masters:
              version: 1.30
              vpc:
                create: {cidr: 10.0.0.0/16, azCount: 1}
            workers:
              - name: general
                instanceTypes: [m5.large]
                scaling: {min: 2, desired: 1, max: 3}
              - name: spot
                instanceType: t3.medium
            """),
        [
            (
                "spec.yaml:4:9: metadata.name: cluster name must be 1-100 characters, start with a "
                "letter or digit, and contain only letters, digits, '-' and '_'; got 'demo!' ('!' at "
                "position 5 is not allowed)"
            ),
            (
                "spec.yaml:7:12: masters.version: Kubernetes version must be a quoted string: YAML "
                'reads 1.30 as the number 1.3; write "1.30"'
            ),
            (
                "spec.yaml:9:42: masters.vpc.create.azCount: EKS needs subnets in at least two "
                "Availability Zones; azCount must be at least 2, got 1"
            ),
            "spec.yaml:13:32: workers[0].scaling.desired: desired (1) must be between min (2) and max (3)",
            "spec.yaml:14:5: workers[1]: missing required field 'instanceTypes'",
            "spec.yaml:15:5: workers[1]: unknown field 'instanceType'; did you mean 'instanceTypes'?",
        ],
        id="many_problems_at_once",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                existing:
                  subnetIds:
                    - subnet-0123456789abcdef0
                    - sg-0123456789abcdef0
            """),
        [
            (
                "spec.yaml:9:11: masters.vpc.existing.subnetIds[1]: 'sg-0123456789abcdef0' is not a "
                "subnet ID (like subnet-0123456789abcdef0)"
            ),
        ],
        id="existing_ids_bad",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            iamMappings:
              - arn: arn:aws:iam::111122223333:role/teams/admin
                kind: role
                via: aws-auth
            """),
        [
            (
                "spec.yaml:5:10: iamMappings[0].arn: aws-auth role ARNs cannot include a path "
                "(/teams/); drop the path or use via: access-entry"
            ),
        ],
        id="aws_auth_role_path",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            iamMappings:
              - arn: arn:aws:iam::111122223333:role/dev
                kind: role
                accessPolicies:
                  - {policy: AmazonEKSEditPolicy, scope: namespace}
            """),
        [
            ("spec.yaml:8:9: iamMappings[0].accessPolicies[0].namespaces: scope namespace needs a list of namespaces"),
        ],
        id="access_policy_namespace_scope",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            cni:
              customNetworking:
                enabled: true
                eniConfigs:
                  - {availabilityZone: eu-west-1a, subnetId: subnet-0123456789abcdef0}
            """),
        [
            (
                "spec.yaml:8:28: cni.customNetworking.eniConfigs[0].availabilityZone: eu-west-1a is "
                "not in the cluster's region us-east-1"
            ),
        ],
        id="custom_networking_az_region",
    ),
    pytest.param(
        _y("""\
            apiVersion: eks-assist/v1
            kind: Cluster
            metadata: {name: demo, region: us-east-1}
            masters:
              vpc:
                create: {cidr: 10.0.0.0/27, azCount: 3}
            """),
        [
            (
                "spec.yaml:6:20: masters.vpc.create.cidr: a /27 VPC cannot be split into 3 subnets of "
                "at least /28; use a larger CIDR or list subnetCidrs"
            ),
        ],
        id="vpc_too_small_for_azs",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_SPECS)
def test_bad_spec_message(text: str, expected: list[str]) -> None:
    assert _problems(text) == expected


def test_bad_spec_table_is_big_enough() -> None:
    assert len({p.id for p in BAD_SPECS}) == len(BAD_SPECS) >= 25


def test_cluster_name_too_long() -> None:
    name = "a" * 101
    text = f"apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {{name: {name}, region: us-east-1}}\n"
    assert _problems(text) == [
        "spec.yaml:3:18: metadata.name: cluster name must be 1-100 characters, start with a letter or "
        f"digit, and contain only letters, digits, '-' and '_'; got '{name}' (101 characters)"
    ]


def test_errors_carry_no_pydantic_noise() -> None:
    text = _y("""\
        apiVersion: eks-assist/v1
        kind: Cluster
        metadata: {name: "bad name", region: nowhere}
        masters: {version: "x", serviceCidr: 8.8.8.0/24}
        workers: [{name: a, instanceTypes: [m5.large], scaling: {min: 5, desired: 1, max: 2}}]
        """)
    for message in _problems(text):
        assert "pydantic" not in message
        assert "Value error" not in message
        assert "errors.pydantic.dev" not in message
        assert "Input should be" not in message


# --------------------------------------------------------------------------- files


def test_ten_megabyte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * (1024 * 1024))
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: file is 10485760 bytes, larger than 4096 KiB; refusing to parse it"
    ]
    assert info.value.exit_code == 2


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert str(info.value) == f"{path}: file is empty"


def test_list_not_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("# a list, not a spec\n- name: demo\n")
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert str(info.value) == f"{path}:2:1: spec must be a mapping (apiVersion, kind, metadata, ...), got a list"


def test_malformed_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: eks-assist/v1\nkind: [Cluster\n")
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert str(info.value) == f"{path}:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_spec(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_load_spec_keeps_source_and_file(tmp_path: Path) -> None:
    text = (EXAMPLES / "minimal.yaml").read_text()
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    loaded = load_spec(path)
    assert isinstance(loaded, LoadedSpec)
    assert loaded.source == text
    assert loaded.file == str(path)
    # The locator still points into the file for checks made after loading (preflight).
    problem = loaded.problem(("workers", 0, "instanceTypes", 0), "example")
    assert str(problem) == f"{path}:11:21: workers[0].instanceTypes[0]: example"


def test_parse_spec_from_parsed_data() -> None:
    data, locator = loads((EXAMPLES / "demo.yaml").read_text(), "demo.yaml")
    loaded = parse_spec(data, locator)
    assert loaded.spec.metadata.name == "demo"
    assert loaded.file == "demo.yaml"
    assert loaded.source == ""


# --------------------------------------------------------------------------- good specs


def test_demo_example() -> None:
    spec = load_spec(EXAMPLES / "demo.yaml").spec
    assert spec.metadata.name == "demo"
    assert spec.metadata.region == "us-east-1"
    assert spec.metadata.tags == {"team": "platform", "environment": "demo"}
    assert spec.masters.version == "1.33"
    assert spec.masters.vpc.create is not None
    assert spec.masters.vpc.create.cidr == "10.0.0.0/16"
    assert spec.masters.vpc.create.az_count == 2
    assert spec.masters.vpc.existing is None
    general, spot = spec.workers
    assert (general.name, general.instance_types, general.capacity_type) == ("general", ["m5.large"], "ON_DEMAND")
    assert (general.scaling.min_size, general.scaling.desired_size, general.scaling.max_size) == (1, 2, 3)
    assert (spot.name, spot.instance_types, spot.capacity_type) == ("spot", ["t3.medium", "t3a.medium"], "SPOT")
    assert (spot.scaling.min_size, spot.scaling.desired_size, spot.scaling.max_size) == (0, 1, 2)
    assert spot.labels == {"role": "batch"}
    assert [(t.key, t.value, t.effect) for t in spot.taints] == [("capacity", "spot", "NO_SCHEDULE")]


def test_existing_vpc_example() -> None:
    spec = load_spec(EXAMPLES / "existing-vpc.yaml").spec
    assert spec.masters.vpc.create is None
    assert spec.masters.vpc.existing is not None
    assert spec.masters.vpc.existing.subnet_ids == ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]
    assert spec.masters.endpoint.public_access is False
    assert spec.masters.endpoint.public_cidrs == []
    assert spec.masters.authentication_mode == "API"
    assert spec.iam_mappings[1].access_policies[0].namespaces == ["apps"]
    assert spec.kubeconfig.exec_ == "builtin"


def test_minimal_example_gets_defaults() -> None:
    spec = load_spec(EXAMPLES / "minimal.yaml").spec
    assert spec.masters.version == DEFAULT_VERSION == "1.33"
    assert spec.masters.vpc.create is not None
    assert (spec.masters.vpc.create.cidr, spec.masters.vpc.create.az_count) == ("10.0.0.0/16", 2)
    assert spec.masters.vpc.create.subnet_cidrs is None
    assert spec.masters.service_cidr is None
    endpoint = spec.masters.endpoint
    assert (endpoint.public_access, endpoint.private_access, endpoint.public_cidrs) == (True, False, ["0.0.0.0/0"])
    assert spec.masters.logging == []
    assert spec.masters.secrets_encryption is None
    assert spec.masters.authentication_mode == "API_AND_CONFIG_MAP"
    ng = spec.workers[0]
    assert ng.ami_type == "AL2023_x86_64_STANDARD"
    assert ng.capacity_type == "ON_DEMAND"
    assert (ng.scaling.min_size, ng.scaling.desired_size, ng.scaling.max_size) == (1, 2, 2)
    assert ng.disk_size == 20
    assert (ng.labels, ng.taints, ng.subnet_ids, ng.custom_ami_id) == ({}, [], [], None)
    assert spec.cni.prefix_delegation is False
    assert spec.iam_mappings == []
    assert (spec.kubeconfig.exec_, spec.kubeconfig.write) == ("builtin", True)


def test_workers_may_be_omitted() -> None:
    spec = loads_spec("apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {name: cp, region: eu-west-1}\n").spec
    assert spec.workers == []


def test_private_only_endpoint_gets_no_public_cidrs() -> None:
    text = _y("""\
        apiVersion: eks-assist/v1
        kind: Cluster
        metadata: {name: demo, region: us-east-1}
        masters:
          endpoint: {publicAccess: false, privateAccess: true}
        """)
    assert loads_spec(text).spec.masters.endpoint.public_cidrs == []


def test_models_are_frozen_and_accept_python_names() -> None:
    spec = ClusterSpec(api_version="eks-assist/v1", kind="Cluster", metadata=Metadata(name="py", region="us-west-2"))
    assert spec.masters.version == DEFAULT_VERSION
    with pytest.raises(ValidationError):
        spec.metadata.name = "other"  # type: ignore[misc]


def test_enums_match_the_eks_api_model() -> None:
    eks = botocore.session.get_session().get_service_model("eks")
    assert set(AMI_TYPES) == set(eks.shape_for("AMITypes").enum)
    assert set(LOG_TYPES) == set(eks.shape_for("LogType").enum)


# --------------------------------------------------------------------------- canonical form


def test_canonical_is_json_sorted_and_filled() -> None:
    canonical = load_spec(EXAMPLES / "minimal.yaml").spec.canonical()
    assert json.loads(json.dumps(canonical)) == canonical

    def assert_sorted(obj: object) -> None:
        if isinstance(obj, dict):
            assert list(obj) == sorted(obj)
            for value in obj.values():
                assert_sorted(value)
        elif isinstance(obj, list):
            for value in obj:
                assert_sorted(value)

    assert_sorted(canonical)
    assert canonical["masters"]["vpc"]["create"] == {"azCount": 2, "cidr": "10.0.0.0/16", "subnetCidrs": None}
    assert canonical["workers"][0]["scaling"] == {"desired": 2, "max": 2, "min": 1}
    assert canonical["kubeconfig"]["exec"] == "builtin"


def test_canonical_ignores_layout_and_explicit_defaults() -> None:
    terse = loads_spec((EXAMPLES / "minimal.yaml").read_text()).spec
    verbose = loads_spec(
        _y("""\
        # same cluster, written out longhand and in another order
        kind: Cluster
        apiVersion: eks-assist/v1
        workers:
          - instanceTypes: [t3.medium]
            name: default
            amiType: AL2023_x86_64_STANDARD
            scaling: {max: 2, min: 1, desired: 2}
            diskSize: 20
        metadata:
          region: us-east-1
          name: minimal
          tags: {}
        masters:
          version: "1.33"
          vpc: {create: {azCount: 2, cidr: 10.0.0.0/16}}
          endpoint: {publicAccess: true, publicCidrs: [0.0.0.0/0]}
        """)
    ).spec
    assert terse.canonical() == verbose.canonical()
    assert terse.digest() == verbose.digest()
    assert terse.digest() == load_spec(EXAMPLES / "minimal.yaml").spec.digest()


def test_canonical_changes_with_content() -> None:
    base = (EXAMPLES / "minimal.yaml").read_text()
    changed = base.replace("[t3.medium]", "[t3.large]")
    assert loads_spec(base).spec.digest() != loads_spec(changed).spec.digest()


# --------------------------------------------------------------------------- JSON schema


def test_json_schema_is_valid_and_matches_examples() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = spec_json_schema()
    json.dumps(schema)  # JSON-able
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("demo.yaml", "minimal.yaml", "existing-vpc.yaml"):
        data, _ = loads((EXAMPLES / name).read_text(), name)
        assert list(validator.iter_errors(data)) == [], name
    data, _ = loads((EXAMPLES / "minimal.yaml").read_text(), "minimal.yaml")
    data["workers"][0]["instanceType"] = "m5.large"
    assert list(validator.iter_errors(data)), "unknown fields must fail the schema too"


def test_json_schema_uses_yaml_names() -> None:
    schema = spec_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == {
        "apiVersion",
        "kind",
        "metadata",
        "masters",
        "workers",
        "cni",
        "iamMappings",
        "kubeconfig",
    }
    assert set(schema["required"]) == {"apiVersion", "kind", "metadata"}
    assert schema["additionalProperties"] is False
    defs = schema["$defs"]
    assert set(defs["NodeGroup"]["properties"]) == {
        "name",
        "instanceTypes",
        "amiType",
        "customAmiId",
        "capacityType",
        "scaling",
        "diskSize",
        "labels",
        "taints",
        "subnetIds",
    }
    assert set(defs["Scaling"]["properties"]) == {"min", "desired", "max"}
    assert "AL2023_x86_64_STANDARD" in defs["NodeGroup"]["properties"]["amiType"]["enum"]
    assert defs["Masters"]["properties"]["version"]["pattern"] == r"^\d+\.\d+$"
    assert defs["Kubeconfig"]["properties"]["exec"]["enum"] == ["aws", "builtin"]


# -- regions: botocore's partition data decides (issue 11, item 3) ---------------------------------


def _spec_in(region: str, extra: str = "") -> str:
    return f"apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {{name: demo, region: {region}}}\n{extra}"


def test_unknown_region_is_refused_with_a_did_you_mean() -> None:
    version = botocore.__version__
    assert _problems(_spec_in("us-east-7")) == [
        f"spec.yaml:3:32: metadata.region: 'us-east-7' is not an AWS region; did you mean 'us-east-2'? "
        f"(botocore {version} knows us-east-1 and us-east-2; upgrade boto3 and botocore if the region is new)"
    ]
    assert _problems(_spec_in("US-EAST-1")) == [
        "spec.yaml:3:32: metadata.region: 'US-EAST-1': region names are lowercase; did you mean 'us-east-1'?"
    ]
    assert _problems(_spec_in("fips-us-east-1"))[0].startswith(
        "spec.yaml:3:32: metadata.region: 'fips-us-east-1' is not an AWS region; did you mean 'us-east-1'?"
    )


@pytest.mark.parametrize("region", ["us-east-1", "eusc-de-east-1", "us-isof-south-1", "cn-northwest-1", "ap-southeast-7"])
def test_every_region_botocore_knows_is_accepted(region: str) -> None:
    # eusc-de-east-1 (the European Sovereign Cloud) was refused by the old hand-written pattern.
    assert loads_spec(_spec_in(region)).spec.metadata.region == region


def test_regions_come_from_botocores_partition_data() -> None:
    session = botocore.session.get_session()
    for partition in session.get_available_partitions():
        for region in session.get_available_regions("eks", partition):
            if not region.startswith("fips-"):
                assert loads_spec(_spec_in(region)).spec.metadata.region == region


def test_kms_key_arn_region_and_partition_follow_the_region() -> None:
    key = "key/1234abcd-12ab-34cd-56ef-1234567890ab"
    kms = "masters:\n  secretsEncryption: {{kmsKeyArn: {arn}}}\n"
    assert _problems(_spec_in("cn-north-1", kms.format(arn=f"arn:aws:kms:cn-north-1:111122223333:{key}"))) == [
        "spec.yaml:5:34: masters.secretsEncryption.kmsKeyArn: the KMS key ARN says partition 'aws', but region "
        "cn-north-1 is in 'aws-cn': write arn:aws-cn:kms:..."
    ]
    assert _problems(_spec_in("us-east-1", kms.format(arn=f"arn:aws:kms:us-east-7:111122223333:{key}")))[0].startswith(
        "spec.yaml:5:34: masters.secretsEncryption.kmsKeyArn: the KMS key ARN names region 'us-east-7' is not an AWS region"
    )
    assert _problems(_spec_in("us-east-1", kms.format(arn="arn:aws:kms:us-east-1:111122223333:key/abcd"))) == [
        "spec.yaml:5:34: masters.secretsEncryption.kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/abcd' is not a "
        "KMS key ARN (like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab, or ...:alias/name)"
    ]
    for arn in (
        f"arn:aws-cn:kms:cn-north-1:111122223333:{key}",
        "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws-cn:kms:cn-north-1:111122223333:alias/team/eks",
    ):
        assert loads_spec(_spec_in("cn-north-1", kms.format(arn=arn))).spec.masters.secrets_encryption is not None


def test_availability_zones_are_named_after_a_known_region() -> None:
    eni = "cni:\n  customNetworking:\n    enabled: true\n    eniConfigs:\n      - {{availabilityZone: {az}, subnetId: subnet-0123456789abcdef0}}\n"
    assert _problems(_spec_in("us-east-1", eni.format(az="us-east-7a"))) == [
        "spec.yaml:8:28: cni.customNetworking.eniConfigs[0].availabilityZone: 'us-east-7a' is not an Availability Zone "
        f"name (like us-east-1a, a region and a letter): 'us-east-7' is not an AWS region; did you mean 'us-east-2'? "
        f"(botocore {botocore.__version__} knows us-east-1 and us-east-2; upgrade boto3 and botocore if the region is new)"
    ]
    # A Local Zone belongs to its parent region; the European Sovereign Cloud's zones are zones too.
    assert loads_spec(_spec_in("us-west-2", eni.format(az="us-west-2-lax-1a"))).spec.cni.custom_networking.enabled
    assert loads_spec(_spec_in("eusc-de-east-1", eni.format(az="eusc-de-east-1b"))).spec.cni.custom_networking.enabled


# -- names that differ only in case (issue 11, item 7) ----------------------------------------------


def test_node_group_names_differing_only_in_case_are_refused_like_duplicates() -> None:
    text = _spec_in(
        "us-east-1",
        "workers:\n  - {name: apps, instanceTypes: [m5.large]}\n  - {name: APPS, instanceTypes: [m5.large]}\n"
        "  - {name: apps, instanceTypes: [m5.large]}\n",
    )
    assert _problems(text) == [
        "spec.yaml:6:12: workers[1].name: duplicate node group name 'APPS': it differs from 'apps' (workers[0]) only in "
        "case; EKS would make two node groups that people and tools tell apart only by case: use distinct names",
        "spec.yaml:7:12: workers[2].name: duplicate node group name 'apps' (also at workers[0])",
    ]


def test_mappings_of_one_iam_principal_spelled_two_ways_are_refused() -> None:
    text = _spec_in(
        "us-east-1",
        "iamMappings:\n"
        "  - {arn: 'arn:aws:iam::111122223333:role/Admin', kind: role, groups: [a]}\n"
        "  - {arn: 'arn:aws:iam::111122223333:role/admin', kind: role, groups: [b]}\n"
        "  - {arn: 'arn:aws:iam::111122223333:role/team/ADMIN', kind: role, groups: [c]}\n"
        "  - {arn: 'arn:aws:iam::111122223333:user/admin', kind: user, groups: [d]}\n",
    )
    same = "IAM names are unique in an account whatever their case or path: keep one mapping"
    assert _problems(text) == [
        "spec.yaml:6:11: iamMappings[1].arn: duplicate mapping for arn:aws:iam::111122223333:role/admin: it names the "
        f"same IAM role as iamMappings[0] (arn:aws:iam::111122223333:role/Admin); {same}",
        "spec.yaml:7:11: iamMappings[2].arn: duplicate mapping for arn:aws:iam::111122223333:role/team/ADMIN: it names "
        f"the same IAM role as iamMappings[0] (arn:aws:iam::111122223333:role/Admin); {same}",
    ]


def test_tag_keys_differing_only_in_case_are_refused() -> None:
    text = _spec_in("us-east-1").replace("region: us-east-1}", "region: us-east-1, tags: {Team: a, team: b, TEAM: c}}")
    assert _problems(text) == [
        "spec.yaml:3:59: metadata.tags: tag key 'team' differs from 'Team' only in case; IAM treats tag keys "
        "case-insensitively and refuses both on one role: keep one",
        "spec.yaml:3:68: metadata.tags: tag key 'TEAM' differs from 'Team' only in case; IAM treats tag keys "
        "case-insensitively and refuses both on one role: keep one",
    ]


# -- kubeconfig.path: only where the user's own kubeconfig rules point (issue 11, item 5) ---------


def _kubeconfig_path_problems(path: str) -> list[str]:
    text = _spec_in("us-east-1", f"kubeconfig:\n  path: {json.dumps(path)}\n")
    try:
        loads_spec(text, "spec.yaml")
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_kubeconfig_path_outside_home_and_kubeconfig_is_refused(tmp_path: Path) -> None:
    home = Path.home()  # the suite's isolated home (tests/conftest.py)
    assert _kubeconfig_path_problems("../../../../etc/cron.d/evil") == [
        "spec.yaml:5:9: kubeconfig.path: '../../../../etc/cron.d/evil' is relative, so it would name a different file "
        "in every directory eks-assist runs in; write ~/.kube/<file> or an absolute path"
    ]
    assert _kubeconfig_path_problems("/etc/cron.d/evil") == [
        f"spec.yaml:5:9: kubeconfig.path: '/etc/cron.d/evil' is outside your home directory {home} and is not a file "
        "listed in $KUBECONFIG; a spec may write its kubeconfig only there (docs/security.md)"
    ]
    assert _kubeconfig_path_problems("~/../../etc/x") == [
        "spec.yaml:5:9: kubeconfig.path: '~/../../etc/x' contains '..'; write the path without it"
    ]
    assert _kubeconfig_path_problems("~root/.kube/config") == [
        "spec.yaml:5:9: kubeconfig.path: '~root/.kube/config' names another user's home directory; write ~/... for yours"
    ]
    assert _kubeconfig_path_problems("~") == [
        "spec.yaml:5:9: kubeconfig.path: '~' is a directory; give the kubeconfig file's name, like ~/.kube/config"
    ]
    (home / ".kube").mkdir(parents=True)
    assert _kubeconfig_path_problems(str(home / ".kube")) == [
        f"spec.yaml:5:9: kubeconfig.path: '{home / '.kube'}' is a directory; give the kubeconfig file's name"
    ]


def test_kubeconfig_path_through_a_symlink_is_judged_by_where_it_leads(tmp_path: Path) -> None:
    home = Path.home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "escape").symlink_to(tmp_path / "outside")
    (tmp_path / "outside").mkdir()
    assert _kubeconfig_path_problems("~/escape/config") == [
        f"spec.yaml:5:9: kubeconfig.path: '~/escape/config' is outside your home directory {home} (through a symbolic "
        f"link, it is {tmp_path / 'outside' / 'config'}) and is not a file listed in $KUBECONFIG; a spec may write "
        "its kubeconfig only there (docs/security.md)"
    ]


def test_kubeconfig_path_under_home_or_in_kubeconfig_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _kubeconfig_path_problems("~/.kube/config") == []
    assert _kubeconfig_path_problems(str(Path.home() / "clusters" / "demo.config")) == []
    # A file the user lists in $KUBECONFIG is theirs, wherever it is.
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'shared' / 'b'}")
    assert _kubeconfig_path_problems(str(tmp_path / "shared" / "b")) == []
    assert _kubeconfig_path_problems(str(tmp_path / "shared" / "c"))[0].endswith(
        "is not a file listed in $KUBECONFIG; a spec may write its kubeconfig only there (docs/security.md)"
    )


# -- every validator against the EKS / EC2 / IAM references (issue 11, item 9) --------------------


def _mapping_spec(mapping: str, mode: str = "API", region: str = "us-east-1") -> str:
    return _spec_in(region, f"masters: {{authenticationMode: {mode}}}\niamMappings:\n  - {mapping}\n")


def _worker_spec(fields: str) -> str:
    return _spec_in("us-east-1", f"workers:\n  - {{name: ng, instanceTypes: [m5.large], {fields}}}\n")


VALID_NOW = [
    # AccessScope takes a trailing wildcard (EKS User Guide; eksctl's examples/40-access-entries.yaml).
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws:iam::111122223333:role/dev', kind: role, accessPolicies: "
            "[{policy: AmazonEKSViewPolicy, scope: namespace, namespaces: [default, dev-*, team-a*]}]}"
        ),
        id="namespace-wildcard-suffix",
    ),
    # ListAccessPolicies has Amazon...Policy names beyond AmazonEKS...Policy.
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws:iam::111122223333:role/ops', kind: role, accessPolicies: [{policy: AmazonAIOpsAssistantPolicy}]}"
        ),
        id="access-policy-not-amazoneks",
    ),
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws-cn:iam::111122223333:role/ops', kind: role, accessPolicies: "
            "[{policy: 'arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy'}]}",
            region="cn-north-1",
        ),
        id="china-partition-arns",
    ),
    # 50 tags per resource, less the five eks-assist adds (was a made-up 40).
    pytest.param(
        _spec_in("us-east-1").replace(
            "region: us-east-1}", "region: us-east-1, tags: {" + ", ".join(f"t{i}: v" for i in range(45)) + "}}"
        ),
        id="forty-five-tags",
    ),
    # Nodes per managed node group is an adjustable quota (450 by default), checked at plan time.
    pytest.param(_worker_spec("scaling: {min: 0, desired: 1, max: 1500}"), id="max-above-1000"),
    pytest.param(
        _worker_spec("labels: {example.com/role: web}, taints: [{key: dedicated, effect: NO_SCHEDULE}]"), id="label-and-taint"
    ),
    pytest.param(
        _mapping_spec("{arn: 'arn:aws:iam::111122223333:role/ci', kind: role, username: 'system:ci'}", mode="CONFIG_MAP"),
        id="system-username-in-aws-auth",
    ),
]


@pytest.mark.parametrize("text", VALID_NOW)
def test_valid_eks_values_are_accepted(text: str) -> None:
    assert loads_spec(text, "spec.yaml").spec.metadata.name == "demo"


REFUSED_NOW = [
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws:iam::111122223333:role/dev', kind: role, accessPolicies: "
            "[{policy: AmazonEKSViewPolicy, scope: namespace, namespaces: ['*', 'de*v', Dev-*]}]}"
        ),
        [
            "iamMappings[0].accessPolicies[0].namespaces[0]: '*' alone would be every namespace; use scope: cluster",
            "iamMappings[0].accessPolicies[0].namespaces[1]: 'de*v': a wildcard may only end a namespace, like dev-*",
            "iamMappings[0].accessPolicies[0].namespaces[2]: 'Dev-*' is not a valid namespace name (lowercase letters, "
            "digits and '-', at most 63 characters), or a prefix of one followed by * (like dev-*)",
        ],
        id="namespace-wildcards-elsewhere",
    ),
    pytest.param(
        _worker_spec('labels: {example.com/role: ""}'),
        ["workers[0].labels.example.com/role: label value is empty; EKS node group labels need a value of 1-63 characters"],
        id="empty-label-value",
    ),
    pytest.param(
        _worker_spec("labels: {eks.amazonaws.com/nodegroup: x}"),
        [
            "workers[0].labels: label key 'eks.amazonaws.com/nodegroup': EKS reserves the kubernetes.io/, k8s.io/ and "
            "eks.amazonaws.com/ prefixes"
        ],
        id="eks-reserved-label",
    ),
    pytest.param(
        _worker_spec("labels: {" + "a" * 20 + ".example.com/" + "b" * 40 + ": x}"),
        [f"workers[0].labels: label key '{'a' * 20}.example.com/{'b' * 40}' is 73 characters; at most 63 allowed"],
        id="label-key-over-63",
    ),
    pytest.param(
        _worker_spec("amiType: CUSTOM, customAmiId: ami-0123456789"),
        ["workers[0].customAmiId: 'ami-0123456789' is not an AMI ID (like ami-0123456789abcdef0)"],
        id="ami-id-length",
    ),
    pytest.param(
        _worker_spec("capacityType: CAPACITY_BLOCK"),
        [
            "workers[0].capacityType: capacity type CAPACITY_BLOCK needs a launch template that names an EC2 capacity "
            "reservation, which an eks-assist spec cannot express; use ON_DEMAND or SPOT"
        ],
        id="capacity-block",
    ),
    pytest.param(
        _worker_spec(f"scaling: {{min: 0, desired: 1, max: {2**31}}}"),
        ["workers[0].scaling.max: must be at most 2147483647, got the number 2147483648"],
        id="max-beyond-int32",
    ),
    pytest.param(
        _spec_in(
            "us-east-1",
            "masters:\n  vpc:\n    existing:\n      subnetIds: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]\n"
            "      securityGroupIds: [sg-00000001, sg-00000002, sg-00000003, sg-00000004, sg-00000005]\n",
        ),
        ["masters.vpc.existing.securityGroupIds: EKS allows at most 4 control plane security groups (a fixed quota), got 5"],
        id="five-security-groups",
    ),
    pytest.param(
        _spec_in(
            "us-east-1",
            "masters:\n  endpoint:\n    publicCidrs: [" + ", ".join(f"203.0.113.{i}/32" for i in range(41)) + "]\n",
        ),
        ["masters.endpoint.publicCidrs: EKS allows at most 40 public access CIDR ranges (a fixed quota), got 41"],
        id="forty-one-public-cidrs",
    ),
    pytest.param(
        _spec_in("us-east-1").replace(
            "region: us-east-1}", "region: us-east-1, tags: {" + ", ".join(f"t{i}: v" for i in range(46)) + "}}"
        ),
        [
            "metadata.tags: at most 45 tags are allowed, got 46: AWS allows 50 on a resource and eks-assist adds Name, "
            "eks-assist:cluster, eks-assist:cluster-arn, eks-assist:managed-by, eks-assist:resource to each"
        ],
        id="forty-six-tags",
    ),
    pytest.param(
        _spec_in("us-east-1", "cni: {addonVersion: v1.19.2}\n"),
        ["cni.addonVersion: addonVersion must be a version EKS lists for vpc-cni, like v1.19.2-eksbuild.1, got 'v1.19.2'"],
        id="addon-version-without-eksbuild",
    ),
    pytest.param(
        _mapping_spec("{arn: 'arn:aws:iam::111122223333:role/r\u00f4le', kind: role}"),
        [
            "iamMappings[0].arn: 'arn:aws:iam::111122223333:role/rôle' is not an IAM role ARN (like arn:aws:iam::111122223333:role/name)"
        ],
        id="iam-name-not-ascii",
    ),
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws:iam::111122223333:role/ops', kind: role, accessPolicies: "
            "[{policy: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy'}]}",
            region="cn-north-1",
        ),
        [
            "iamMappings[0].arn: the ARN is in partition 'aws' but the cluster's region cn-north-1 is in 'aws-cn': "
            "write arn:aws-cn:...",
            "iamMappings[0].accessPolicies[0].policy: the ARN is in partition 'aws' but the cluster's region cn-north-1 "
            "is in 'aws-cn': write arn:aws-cn:...",
        ],
        id="arn-partition-vs-region",
    ),
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws:iam::111122223333:role/ops', kind: role, accessPolicies: "
            "[{policy: AmazonEKSViewPolicy}, {policy: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', "
            "scope: namespace, namespaces: [a]}]}"
        ),
        [
            "iamMappings[0].accessPolicies[1].policy: duplicate access policy AmazonEKSViewPolicy (also at "
            "accessPolicies[0]); EKS associates a policy with an access entry once: give it one scope"
        ],
        id="access-policy-twice",
    ),
    # The last session's note: via auto becomes an access entry unless the mode is CONFIG_MAP, and
    # CreateAccessEntry refuses reserved usernames and groups; it used to fail only at apply.
    pytest.param(
        _mapping_spec(
            "{arn: 'arn:aws:iam::111122223333:role/ci', kind: role, username: 'system:ci', groups: ['system:masters']}"
        ),
        [
            "iamMappings[0].username: access entry usernames cannot start with 'system:' (EKS reserves it); with via: "
            "auto and authenticationMode API this mapping is an access entry: pick another",
            "iamMappings[0].groups[0]: access entry groups cannot start with 'system:' (EKS reserves it): "
            "'system:masters'; with via: auto and authenticationMode API this mapping is an access entry: pick another",
        ],
        id="via-auto-reserved-username",
    ),
    pytest.param(
        _mapping_spec("{arn: 'arn:aws:iam::111122223333:role/ci', kind: role, username: 'eks:ci'}", mode="API_AND_CONFIG_MAP"),
        [
            "iamMappings[0].username: access entry usernames cannot start with 'eks:' (EKS reserves it); with via: auto "
            "and authenticationMode API_AND_CONFIG_MAP this mapping is an access entry: pick another, or use via: aws-auth"
        ],
        id="via-auto-reserved-username-both-modes",
    ),
]


@pytest.mark.parametrize(("text", "expected"), REFUSED_NOW)
def test_invalid_eks_values_are_refused_at_validate(text: str, expected: list[str]) -> None:
    assert [p.split(": ", 1)[1] for p in _problems(text)] == expected


def test_our_tag_keys_are_the_ownership_tags_and_name() -> None:
    # The tag budget (MAX_TAGS) counts what eks-assist adds to every resource it creates.
    from assistant import tags
    from assistant.spec import MAX_TAGS, OUR_TAG_KEYS

    owner = tags.Owner.of("demo", "us-east-1", "123456789012")
    assert {*tags.ownership(owner, "vpc"), "Name"} == OUR_TAG_KEYS
    assert MAX_TAGS + len(OUR_TAG_KEYS) == 50
