"""``python -m assistant.cli``: the same as the ``eks-assist`` command."""

from assistant.cli.main import main

raise SystemExit(main())
