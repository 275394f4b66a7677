"""Actions that change objects inside a cluster's Kubernetes API (e.g. ``k8s.aws_auth``)."""
