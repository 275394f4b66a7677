"""``python -m assistant.sandbox``: the same as ``eks-assist sandbox``."""

import argparse
import sys

from assistant.cli import sandbox as options
from assistant.sandbox.command import run

parser = argparse.ArgumentParser(
    prog="eks-assist sandbox", description=options.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
)
options.add_arguments(parser)
sys.exit(run(parser.parse_args()))
