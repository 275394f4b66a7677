"""Command-palette entries (Ctrl+P): jump to a wizard screen, save the spec, switch context."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import EksAssistApp


def _entries(app: EksAssistApp) -> list[tuple[str, str, Callable[[], Any]]]:
    entries: list[tuple[str, str, Callable[[], Any]]] = [
        (f"Go to {title}", f"open the {title} screen of the wizard", partial(app.goto, section))
        for section, title in (
            ("masters", "Masters"),
            ("workers", "Workers"),
            ("cni", "CNI"),
            ("iam", "IAM mappings"),
            ("kubeconfig", "Kubeconfig"),
            ("review", "Review"),
        )
    ]
    entries += [
        ("Save spec as YAML", "write the spec being built to a file (eks-assist -f FILE opens it again)", app.action_save_spec),
        ("Back to clusters", "the Context screen: account, region and the clusters dashboard", app.back_to_dashboard),
        ("Help", "keys and what each screen does", app.action_help),
    ]
    return entries


class WizardCommands(Provider):
    """The wizard's own commands, next to Textual's (theme, quit, keys)."""

    async def discover(self) -> Hits:
        for name, help_text, command in _entries(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in _entries(self.app):  # type: ignore[arg-type]
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)


__all__ = ["WizardCommands"]
