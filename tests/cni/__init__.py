"""VPC CNI and capacity-planner tests."""
