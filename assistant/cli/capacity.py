"""``eks-assist capacity``: max pods per instance type and the subnet IP budget of a spec."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Loaded when the verb runs: --help builds this verb's parser and needs none of it.
    from assistant.network import capacity as cap


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The verb's options (the CLI adds it as ``eks-assist capacity``)."""
    p.add_argument(
        "--instance-type",
        "-t",
        action="append",
        default=[],
        metavar="TYPE",
        help="EC2 instance type (repeatable); default with -f: every type in the spec's workers",
    )
    p.add_argument("--prefix-delegation", action="store_true", help="assume VPC CNI prefix delegation (/28 prefixes)")
    p.add_argument("--custom-networking", action="store_true", help="assume custom networking (primary ENI not used for pods)")
    p.add_argument("--max-eni", type=int, metavar="N", help="use at most N ENIs per node for pods")
    p.add_argument("-f", "--file", help="cluster spec: check every node group at max size against its subnets' free IPs")
    g = p.add_argument_group("where to run")
    g.add_argument("--sandbox", action="store_true", help="use the local sandbox (its EC2 data is AWS's real data)")
    g.add_argument("--profile", help="AWS profile (default: boto3's standard credential chain)")
    g.add_argument("--region", help="AWS region (default: the spec's metadata.region, then AWS_REGION)")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default: text)")


def _settings(args: argparse.Namespace, spec: dict[str, Any] | None) -> cap.CniSettings:
    from assistant.network import capacity as cap

    base = cap.CniSettings.from_spec((spec or {}).get("cni") or {})
    # Flags add to the spec's settings: they ask "what if", they never switch a setting off.
    return cap.CniSettings(
        prefix_delegation=base.prefix_delegation or args.prefix_delegation,
        warm_eni_target=base.warm_eni_target,
        warm_ip_target=base.warm_ip_target,
        minimum_ip_target=base.minimum_ip_target,
        warm_prefix_target=base.warm_prefix_target,
        custom_networking=base.custom_networking or args.custom_networking,
        external_snat=base.external_snat,
    )


def compute(args: argparse.Namespace, client: Any, spec: dict[str, Any] | None) -> dict[str, Any]:
    """Everything the verb reports, as JSON-able data."""
    from assistant.network import capacity as cap

    settings = _settings(args, spec)
    types = list(dict.fromkeys(args.instance_type))
    if spec is not None and not types:
        types = list(dict.fromkeys(t for ng in spec.get("workers") or [] for t in ng.get("instanceTypes") or []))
    nets = cap.describe_instance_types(client, types) if types else {}
    rows = []
    for t in types:
        mp = cap.max_pods(
            nets[t],
            prefix_delegation=settings.prefix_delegation,
            custom_networking=settings.custom_networking,
            max_eni=args.max_eni,
        )
        ips = cap.node_ips(nets[t], settings, mp.recommended, max_eni=args.max_eni)
        idle = cap.node_ips(nets[t], settings, cap.HOST_NETWORK_PODS, max_eni=args.max_eni)
        row = mp.to_json()
        row["ipsPerNodeFull"] = ips.total
        row["ipsPerNodeIdle"] = idle.total
        rows.append(row)
    out: dict[str, Any] = {
        "settings": {
            "prefixDelegation": settings.prefix_delegation,
            "customNetworking": settings.custom_networking,
            "maxEni": args.max_eni,
            "warmEniTarget": settings.warm_eni_target,
            "warmIpTarget": settings.warm_ip_target,
            "minimumIpTarget": settings.minimum_ip_target,
            "warmPrefixTarget": settings.warm_prefix_target,
        },
        "instanceTypes": rows,
    }
    if spec is not None:
        loads = cap.subnet_budget(spec, client, settings=settings, max_eni=args.max_eni)
        out["subnets"] = [
            {
                "subnet": s.ref,
                "cidr": s.cidr,
                "free": s.free,
                "needed": s.needed,
                "role": s.role,
                "nodeGroups": list(s.users),
                "fits": s.fits,
            }
            for s in loads
        ]
        out["warnings"] = cap.budget_warnings(loads, settings) + cap.settings_notes(spec)
    return out


def render_text(data: dict[str, Any]) -> str:
    """The human-readable report."""
    s = data["settings"]
    mode = "prefix delegation" if s["prefixDelegation"] else "secondary IPs"
    if s["customNetworking"]:
        mode += ", custom networking"
    if s["maxEni"] is not None:
        mode += f", at most {s['maxEni']} ENIs"
    lines = [f"VPC CNI mode: {mode}", ""]
    if data["instanceTypes"]:
        lines.append(
            f"{'instance type':<16} {'vCPUs':>5} {'ENIs':>4} {'IPv4/ENI':>8} {'max pods':>8} {'recommended':>11} {'IPs/node':>8}"
        )
        for r in data["instanceTypes"]:
            lines.append(
                f"{r['instanceType']:<16} {r['vcpus']:>5} {r['enisForPods']:>4} {r['ipv4PerEni']:>8} "
                f"{r['maxPods']:>8} {r['recommendedMaxPods']:>11} {r['ipsPerNodeFull']:>8}"
            )
            lines.extend(f"  note: {n}" for n in r["notes"])
        lines.append("")
        lines.append(
            "max pods: what the ENIs allow; recommended: capped at 110 (<= 30 vCPUs) or 250, as the EKS AMIs set it; "
            "IPs/node: subnet addresses a full node holds, warm pool included"
        )
    if "subnets" in data:
        lines.append("")
        lines.append("Subnets at max scale (node groups spread evenly):")
        for sub in data["subnets"]:
            cidr = f" ({sub['cidr']})" if sub["cidr"] and sub["cidr"] != sub["subnet"] else ""
            status = "ok" if sub["fits"] else "TOO SMALL"
            lines.append(
                f"  {sub['subnet']}{cidr}: {sub['needed']} needed of {sub['free']} free for {sub['role']} "
                f"[{', '.join(sub['nodeGroups'])}]: {status}"
            )
        for w in data.get("warnings") or []:
            lines.append(f"warning: {w}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the verb; errors are raised (InputError exits 2 through the CLI's handler)."""
    from assistant.cli.common import aws_context
    from assistant.errors import InputError
    from assistant.network import capacity as cap

    if not args.instance_type and not args.file:
        raise InputError("capacity: give --instance-type TYPE, or -f SPEC (or both)")
    if args.max_eni is not None and args.max_eni < 1:
        raise InputError(f"--max-eni must be 1 or more, got {args.max_eni}")
    spec: dict[str, Any] | None = None
    region = None
    if args.file:
        from assistant.engine import load

        loaded = load(args.file)
        problems = cap.spec_problems(loaded)
        if problems:
            raise InputError(problems)
        spec = loaded.spec.canonical()
        region = loaded.spec.metadata.region
    ctx: dict[str, Any] = {}
    try:
        aws = aws_context(args, region, ctx)
        data = compute(args, aws.client, spec)
    finally:
        sb = ctx.get("sandbox")
        if sb is not None:
            sb.stop()
    if args.output == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(render_text(data))
    return 0
