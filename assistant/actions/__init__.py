"""Actions: one module per AWS/Kubernetes resource kind, each with schema, read, plan and apply."""
