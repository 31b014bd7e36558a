"""unbinder: find and remove the accounts still bound to a phone number before it is recycled."""

from __future__ import annotations

__version__ = "0.1.0"
