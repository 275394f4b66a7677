"""Identity: Kubernetes tokens, the kubeconfig model, the aws-auth ConfigMap model and the access check."""
