"""The Textual app and its factory, :func:`make_app`, used by ``eks-assist`` and by the tests.

The app owns the wizard state (one spec dict), the connection to AWS (region, profile, or
the sandbox) and the bridge into the engine. Screens are pushed in wizard order on top of
the Context screen, so Esc always goes back one step with every entry kept in the state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message

from assistant.engine import new_run_id
from assistant.inventory import InstanceTypeInfo

from .bridge import Bridge, plain_error
from .commands import WizardCommands
from .connection import AwsFactory, Connection, SlackRoute, default_aws_factory
from .state import WizardState, new_spec

if TYPE_CHECKING:
    from assistant.sandbox.statefile import SandboxInfo

# What runs before the first AWS call: it gets a progress callback (seconds waited) and returns
# the sandbox it started for the wizard, or None (see ``tui.cli_hook``).
BeforeConnect = Callable[[Callable[[float], None]], "SandboxInfo | None"]
WIZARD_ORDER = ("masters", "workers", "cni", "iam", "kubeconfig", "review")


class CatalogueReady(Message):
    """The instance-type catalogue finished loading (or failed: ``error`` says why)."""

    def __init__(self, error: str = "") -> None:
        super().__init__()
        self.error = error


class EksAssistApp(App[int]):
    """The eks-assist terminal wizard: a front end over the engine's plan and apply."""

    CSS_PATH = "app.tcss"
    TITLE = "eks-assist"
    COMMANDS = App.COMMANDS | {WizardCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("f1", "help", "Help", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(
        self,
        *,
        state: WizardState | None = None,
        region: str | None = None,
        profile: str | None = None,
        sandbox: bool = False,
        aws_factory: AwsFactory = default_aws_factory,
        parallelism: int = 8,
        run_ids: Callable[[], str] = new_run_id,
        clock: Callable[[], float] = time.monotonic,
        redact: Callable[[str], str] = lambda text: text,
        cursor_blink: bool = True,
        catalogue_cache: bool = True,
        prefetch_catalogue: bool = True,
        approval_route: SlackRoute | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.region = region or (state.region if state else None)
        self.profile = profile
        self.sandbox = sandbox
        self.aws_factory = aws_factory
        self.parallelism = parallelism
        self.run_ids = run_ids
        self.clock = clock
        self.redact = redact
        self.cursor_blink = cursor_blink
        self.catalogue_cache = catalogue_cache
        self.prefetch_catalogue = prefetch_catalogue
        # --request-approval slack: Apply posts the plan for someone else's approval and waits.
        self.approval_route = approval_route
        self.conn: Connection | None = None
        # Runs once, on the connect worker, before the first AWS call (the CLI starts the
        # sandbox here so that the first screen paints without waiting for it).
        self.before_connect: BeforeConnect | None = None
        # The background sandbox this wizard started (None: none, or the user's own), and what
        # the user chose for it when quitting: "keep" it running or "stop" it.
        self.owned_sandbox: SandboxInfo | None = None
        self.sandbox_choice: str | None = None
        self._prepared = threading.Lock()
        self.bridge: Bridge | None = None
        self.catalogue: list[InstanceTypeInfo] | None = None
        self.catalogue_error = ""
        self.cluster_names: list[str] = []
        self.sub_title = "sandbox" if sandbox else ""

    # -- lifecycle ------------------------------------------------------------------------
    def on_mount(self) -> None:
        from .screens.context import ContextScreen

        self.push_screen(ContextScreen())

    def prepare_connection(self, progress: Callable[[float], None] = lambda seconds: None) -> None:
        """Run ``before_connect`` once (thread-safe; called from the connect worker)."""
        with self._prepared:
            hook, self.before_connect = self.before_connect, None
            if hook is not None:
                self.owned_sandbox = hook(progress)

    async def action_quit(self) -> None:
        """Quit; with a sandbox this wizard started, first ask whether to keep it running."""
        from .screens.quit import QuitScreen

        if self.owned_sandbox is None:
            self.exit()
            return
        if isinstance(self.screen, QuitScreen):
            return

        def chosen(choice: str | None) -> None:
            if choice is not None:
                self.sandbox_choice = choice
                self.exit()

        self.push_screen(QuitScreen(self.owned_sandbox), chosen)

    def connected(self, conn: Connection) -> None:
        """Called (on the UI thread) once a connection is open: region and identity are known."""
        self.conn = conn
        self.region = conn.region
        self.bridge = Bridge(conn, parallelism=self.parallelism, run_ids=self.run_ids)
        self.catalogue = None
        self.catalogue_error = ""
        where = "SANDBOX" if conn.sandbox else f"{conn.account} · {conn.profile or 'default credentials'}"
        self.sub_title = f"{where} · {conn.region}"
        if self.state is not None and self.state.region != conn.region:
            # The spec's region is the region in use (the engine refuses a mismatch at plan time).
            self.notify(f"metadata.region changed from {self.state.region or '(none)'} to {conn.region}, the region in use")
            self.state.spec.setdefault("metadata", {})["region"] = conn.region

    # -- the wizard -----------------------------------------------------------------------
    def ensure_state(self) -> WizardState:
        if self.state is None:
            self.state = WizardState(new_spec(self.region or ""))
        return self.state

    def screen_for(self, section: str) -> Any:
        from .screens.cni import CniScreen
        from .screens.iam import IamScreen
        from .screens.kubeconfig import KubeconfigScreen
        from .screens.masters import MastersScreen
        from .screens.review import ReviewScreen
        from .screens.workers import WorkersScreen

        return {
            "masters": MastersScreen,
            "workers": WorkersScreen,
            "cni": CniScreen,
            "iam": IamScreen,
            "kubeconfig": KubeconfigScreen,
            "review": ReviewScreen,
        }[section]()

    def start_wizard(self) -> None:
        """Open the Masters screen (a new spec, or the one loaded with -f)."""
        if self.conn is None:
            self.notify("Not connected to AWS yet; see the Context screen.", severity="error")
            return
        self.ensure_state()
        self.push_screen(self.screen_for("masters"))

    def next_section(self, section: str) -> None:
        """Push the screen after ``section``."""
        index = WIZARD_ORDER.index(section)
        self.push_screen(self.screen_for(WIZARD_ORDER[index + 1]))

    async def goto(self, section: str) -> None:
        """Jump to a wizard screen (command palette): the stack is rebuilt so Esc still walks back."""
        if self.conn is None:
            self.notify("Not connected to AWS yet; see the Context screen.", severity="error")
            return
        self.ensure_state()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        for name in WIZARD_ORDER[: WIZARD_ORDER.index(section) + 1]:
            await self.push_screen(self.screen_for(name))

    async def back_to_dashboard(self) -> None:
        """Pop everything above the Context screen and refresh its cluster list."""
        from .screens.context import ContextScreen

        while len(self.screen_stack) > 2:
            await self.pop_screen()
        if isinstance(self.screen, ContextScreen):
            self.screen.refresh_clusters()

    # -- instance-type catalogue ----------------------------------------------------------
    def want_catalogue(self) -> None:
        """Start loading the catalogue in the background unless it is loaded or loading."""
        if self.catalogue is None and self.conn is not None and not self._catalogue_loading():
            self._load_catalogue(self.conn)

    def _catalogue_loading(self) -> bool:
        return any(w.group == "catalogue" and not w.is_finished for w in self.workers)

    @work(thread=True, exclusive=True, group="catalogue")
    def _load_catalogue(self, conn: Connection) -> None:
        from assistant.inventory import instance_types

        try:
            types = instance_types(conn.aws, use_cache=self.catalogue_cache)
        except Exception as exc:
            self.call_from_thread(self._catalogue_done, None, plain_error(exc))
            return
        self.call_from_thread(self._catalogue_done, types, "")

    def _catalogue_done(self, types: list[InstanceTypeInfo] | None, error: str) -> None:
        self.catalogue = types
        self.catalogue_error = error
        for screen in self.screen_stack:
            screen.post_message(CatalogueReady(error))

    # -- actions --------------------------------------------------------------------------
    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(type(self.screen).__name__))

    def resume_run(self, run_id: str, cluster: str) -> None:
        """Replace the current screen with the live progress of ``run_id`` resumed under its approval."""
        from .screens.apply import ApplyScreen

        self.switch_screen(ApplyScreen("resume", run_id=run_id, cluster=cluster))

    def action_save_spec(self) -> None:
        from .screens.save_spec import SaveSpecScreen

        if self.state is None:
            self.notify("No spec yet: start a new cluster first (n on the Context screen).", severity="warning")
            return
        self.push_screen(SaveSpecScreen())


def make_app(
    *,
    spec_file: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    sandbox: bool = False,
    **options: Any,
) -> EksAssistApp:
    """Build the app. ``spec_file`` pre-fills every screen (raises InputError for an invalid spec, like the CLI).

    ``options`` go to :class:`EksAssistApp` (tests pass a fixed clock, run ids, redaction).
    """
    state = WizardState.from_file(spec_file) if spec_file else None
    if state is not None and state.file is not None:
        state.file = str(Path(state.file))
    return EksAssistApp(state=state, region=region, profile=profile, sandbox=sandbox, **options)


__all__ = ["WIZARD_ORDER", "CatalogueReady", "EksAssistApp", "make_app"]
