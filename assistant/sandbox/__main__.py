"""``python -m assistant.sandbox``: the same as ``eks-assist sandbox``."""

import sys

from assistant.sandbox.command import main

sys.exit(main())
