"""Clients for AWS (boto3 sessions) and the Kubernetes API, built from the spec's connection settings."""
