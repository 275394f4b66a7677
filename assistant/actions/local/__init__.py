"""Actions that change only local files (the kubeconfig); they make read-only AWS calls at most."""
