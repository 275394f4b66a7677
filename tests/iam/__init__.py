"""Tests of IAM → Kubernetes RBAC mappings: aws-auth, access entries, access check."""
