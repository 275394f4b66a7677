"""Networking: the subnet and pod-IP capacity planner."""
