"""Which regions exist: the regions of botocore's partition data, as AWS knows them.

botocore signs a request for any name that looks like a region (``us-east-7`` matches the
``aws`` partition's pattern), but moto keeps a backend only for the regions in the partition
data, so a request for any other name used to reach moto and crash there. The sandbox answers
such a request the way AWS answers a credential scoped to a region that does not exist.
"""

from __future__ import annotations

from functools import cache


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data (``us-east-1``, ``cn-north-1``, ...)."""
    import botocore.session

    endpoints = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition.get("regions", {}))


def is_known(region: str) -> bool:
    """True when ``region`` is a region AWS has (in any partition)."""
    return region in known_regions()
