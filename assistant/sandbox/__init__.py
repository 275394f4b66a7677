"""The local sandbox: a moto-backed AWS endpoint with the EKS bits moto lacks, and a small
Kubernetes API server per EKS cluster.

Importing this package is cheap; moto, werkzeug, waitress and cryptography load when a sandbox starts.
"""

from assistant.sandbox.faults import FaultConfig
from assistant.sandbox.k8s.auth import Authenticator, ClusterRef, UserInfo
from assistant.sandbox.latency import LatencyProfile
from assistant.sandbox.sandbox import Sandbox

__all__ = ["Authenticator", "ClusterRef", "FaultConfig", "LatencyProfile", "Sandbox", "UserInfo"]
