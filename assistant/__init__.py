"""eks-assist engine: specs, playbooks, plans, approvals and applies for Amazon EKS.

The engine never imports ``textual`` or ``slack_bolt``; the front ends import it.
"""

__version__ = "0.1.0"
