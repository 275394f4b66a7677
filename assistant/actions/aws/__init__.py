"""Actions backed by AWS APIs (IAM, EC2, EKS)."""
