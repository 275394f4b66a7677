"""The date eks-assist takes as today when it judges Kubernetes version support.

The UTC date (EKS's support dates are UTC days), unless ``EKS_ASSIST_TODAY=YYYY-MM-DD`` says
otherwise. Both the plan's version warnings and the sandbox's EKS read it, so a drill can ask
"what does my plan say on the day 1.33 leaves standard support?", and tests do not change
their answers as the calendar moves on.
"""

from __future__ import annotations

import datetime as dt
import os

from .errors import InputError

TODAY_ENV = "EKS_ASSIST_TODAY"


def today() -> dt.date:
    """Today's UTC date, or the date ``EKS_ASSIST_TODAY`` names."""
    pinned = os.environ.get(TODAY_ENV, "").strip()
    if not pinned:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(pinned)
    except ValueError:
        raise InputError(f"{TODAY_ENV}: expected a date like 2026-07-29, got {pinned!r}") from None
