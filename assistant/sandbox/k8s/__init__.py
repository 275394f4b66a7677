"""A small Kubernetes API server emulator: one HTTPS server, one object store per EKS cluster.

It behaves like kube-apiserver for the calls eks-assist, ``kubectl`` and the ``kubernetes``
client make: discovery, CRUD with resourceVersion conflicts, patches, Status errors and Tables.
"""
