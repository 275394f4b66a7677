"""Governance: change requests, the approval policy, approvals and cluster locks."""
