"""The Slack bot: a Bolt front end over the engine's change requests, approvals and runs."""
