"""Errors a reviewer can cause while triaging cells, with what to do about them."""

from __future__ import annotations

from engine.errors import CervixError


class ReviewError(CervixError):
    """A review decision or report that cannot be made as asked."""
