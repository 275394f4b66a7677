"""The EKS operations moto 5.2.5 lacks or gets wrong, served in front of moto's own EKS backend.

State lives in moto's backend objects (clusters, node groups) plus a ``ClusterExtras`` record
attached to each moto cluster (add-ons, access entries, updates), so deleting a cluster in
moto takes everything that belongs to it along.
"""
