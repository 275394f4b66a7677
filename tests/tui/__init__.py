"""Tests of the terminal wizard: Pilot walk-throughs on the sandbox, snapshots, and a tmux smoke test."""
