"""Running an approved plan: the runner, waits, progress events and the AWS/Kubernetes write guards."""
