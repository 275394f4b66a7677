"""Playbooks: YAML lists of steps that name actions, loaded with line numbers and checked."""

from .loader import available, load_playbook, playbooks_dir
from .model import Playbook, Step

__all__ = ["Playbook", "Step", "available", "load_playbook", "playbooks_dir"]
