"""Test doubles for what eks-assist does not own and cannot run: a local mock of Slack's Web API."""
