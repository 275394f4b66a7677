"""Planning: the change model, the planner that reads live state, preflight and quota checks."""
