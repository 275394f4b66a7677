"""The help dialog (? or F1): keys, and what the current screen is for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

KEYS = """\
## Keys

| key | what it does |
|---|---|
| Tab / Shift+Tab | next / previous field |
| Enter | press a button, open a row, or go to the next field |
| Ctrl+N | Next screen (refused, with the reason, while this screen has problems) |
| Esc | back one screen; everything typed is kept |
| Ctrl+S | save the spec as YAML (`eks-assist -f FILE` opens it again) |
| Ctrl+P | command palette: jump to a screen, save, theme |
| ? or F1 | this help |
| Ctrl+Q | quit: asks whether to keep the wizard's sandbox running (kubectl and the shown commands keep working) or stop it |
"""

SCREENS = {
    "ContextScreen": "**Context**: the AWS account, caller and region (or the SANDBOX). "
    "`n` starts a new cluster, Enter opens a cluster's details, `d` destroys one (you review its "
    "teardown plan and type its name), `r` switches region or profile.",
    "ClusterScreen": "**Cluster details**: node groups, add-ons and IAM mappings. `d` destroys it after review.",
    "MastersScreen": "**Masters**: name, Kubernetes version, VPC (new, or existing subnets with their AZ and "
    "free IPs), endpoint access, logs and authentication mode. Problems show under each field, word for "
    "word what `eks-assist validate` says.",
    "WorkersScreen": "**Workers**: `a` adds a node group, `e` or Enter edits, `x` removes. In the editor, F4 "
    "opens the instance-type picker (search; Enter or Space picks; Ctrl+S when done).",
    "CniScreen": "**CNI**: prefix delegation and warm targets. The panel shows pods per node and the IPs "
    "needed at max scale against each subnet's free IPs, with the planner's warnings.",
    "IamScreen": "**IAM mappings**: `a` adds a role, user or account with a username, groups or access "
    "policies; *goes to* says where each lands (aws-auth or an access entry; `auto` follows the "
    "authentication mode). The node role is mapped automatically. The access check tells who a principal is.",
    "KubeconfigScreen": "**Kubeconfig**: file, context name and token command. No credential is written.",
    "ReviewScreen": "**Review**: the plan by playbook, warnings and the plan hash; the key under its title says "
    "what each symbol means (`!` is the planner's note on the change above it, or a warning). The arrow and page "
    "keys scroll it. Ctrl+A (Apply…) asks you to type the cluster name; the engine plans again and refuses if "
    "anything changed.",
    "DestroyScreen": "**Destroy**: the teardown plan; approve it by typing the cluster name.",
    "ApplyScreen": "**Apply**: live progress. Esc asks before cancelling; a cancelled run can be resumed. "
    "Once the run is over, Esc continues to the summary.",
    "DoneScreen": "**Done**: the endpoint, the kubeconfig context, and what to run next.",
    "FailureScreen": "**Failed run**: what exists and what does not; `r` resumes the run under its approval.",
}


class HelpScreen(ModalScreen[None]):
    """Keys and the current screen's purpose."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, screen_name: str) -> None:
        super().__init__()
        self.screen_name = screen_name

    def compose(self) -> ComposeResult:
        about = SCREENS.get(self.screen_name, "")
        with Vertical(id="dialog", classes="wide tall"), VerticalScroll():
            yield Markdown(f"# eks-assist\n\n{about}\n\n{KEYS}")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["HelpScreen"]
