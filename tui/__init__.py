"""The terminal wizard: a Textual front end over the engine (plan, approve, apply)."""
