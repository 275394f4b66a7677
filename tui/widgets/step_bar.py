"""The wizard's breadcrumb: Context ▸ Masters ▸ Workers ▸ CNI ▸ IAM ▸ Kubeconfig ▸ Review."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STEPS = ("Context", "Masters", "Workers", "CNI", "IAM", "Kubeconfig", "Review", "Apply")


class StepBar(Static):
    """Shows where the user is; the current step is highlighted, the ones before it dimmed."""

    DEFAULT_CLASSES = "step-bar"

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        index = STEPS.index(self.current) if self.current in STEPS else -1
        for i, name in enumerate(STEPS):
            if i:
                text.append(" ▸ ", style="dim")
            if i == index:
                text.append(f" {name} ", style="reverse bold")
            elif i < index:
                text.append(name, style="dim")
            else:
                text.append(name)
        return text


__all__ = ["STEPS", "StepBar"]
