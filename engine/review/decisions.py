"""What the reviewer decided about cells that only a model drew, kept beside the
run's predictions so that a rejected cell does not come back with the next review.

A dataset keeps accepted model cells as annotation cells; a slide opened on its
own has no annotations, so there acceptance and a corrected class are recorded
here too. The file is `<run>/<image key>.decisions.json` in the prediction store:

    {"format_version": 1, "image": KEY,
     "cells": {"<predicted id>": {"review_state": "rejected", "class": null,
                                  "who": "...", "when": "..."}}}
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.cells import ReviewState
from engine.annotations.project import atomic_write_json, current_user, now_iso
from engine.predictions.store import PredictionStore
from engine.review.errors import ReviewError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SUFFIX = ".decisions.json"


@dataclass(frozen=True)
class PredictedDecision:
    """The reviewer's decision about one predicted cell."""

    review_state: ReviewState
    class_name: str | None = None  # the class the reviewer confirmed or chose
    who: str = ""
    when: str = ""

    def to_json(self) -> dict:
        return {
            "review_state": self.review_state.value,
            "class": self.class_name,
            "who": self.who,
            "when": self.when,
        }

    @classmethod
    def from_json(cls, data: dict) -> PredictedDecision:
        return cls(
            review_state=ReviewState(data["review_state"]),
            class_name=data.get("class"),
            who=str(data.get("who", "")),
            when=str(data.get("when", "")),
        )


def decisions_path(store: PredictionStore, run: str, image_key: str) -> Path:
    """Where the decisions about one image's predicted cells of a run live."""
    if not run or "/" in run or run.startswith("."):
        raise ValueError(f"a run name is one plain folder name, not {run!r}")
    return store.root / run / f"{image_key}{SUFFIX}"


def load_decisions(
    store: PredictionStore, run: str, image_key: str
) -> dict[int, PredictedDecision]:
    """The decisions per predicted cell id; empty when none were made."""
    path = decisions_path(store, run, image_key)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version", 1) > FORMAT_VERSION:
            raise ReviewError(
                "was written by a newer Cervix Studio",
                path,
                "update Cervix Studio to see these review decisions",
            )
        return {
            int(cell_id): PredictedDecision.from_json(entry)
            for cell_id, entry in data.get("cells", {}).items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ReviewError(
            f"cannot be read ({error})",
            path,
            "fix the file or delete it to review these predicted cells again",
        ) from None


def save_decisions(
    store: PredictionStore,
    run: str,
    image_key: str,
    decisions: dict[int, PredictedDecision],
) -> Path:
    """Write the decisions of one image atomically (the file goes when empty)."""
    path = decisions_path(store, run, image_key)
    if not decisions:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise ReviewError(
                f"could not be removed: {error.strerror}",
                path,
                "check that the prediction folder is writable",
            ) from error
        return path
    cells = {
        str(cell_id): decisions[cell_id].to_json() for cell_id in sorted(decisions)
    }
    atomic_write_json(
        path, {"format_version": FORMAT_VERSION, "image": image_key, "cells": cells}
    )
    return path


@dataclass(eq=False)
class RecordDecision:
    """A reversible change to the decisions file: one predicted cell decided, or
    its decision taken back. It writes to disk when applied and when reverted,
    since predictions have no save step of their own."""

    store: PredictionStore
    run: str
    image_key: str
    predicted_id: int
    after: PredictedDecision | None
    before: PredictedDecision | None = field(default=None)

    @classmethod
    def of(
        cls,
        store: PredictionStore,
        run: str,
        image_key: str,
        predicted_id: int,
        review_state: ReviewState,
        class_name: str | None = None,
        who: str | None = None,
    ) -> RecordDecision:
        """The record deciding a predicted cell, remembering what was there."""
        before = load_decisions(store, run, image_key).get(predicted_id)
        after = PredictedDecision(review_state, class_name, who or current_user(), "")
        return cls(store, run, image_key, predicted_id, after, before)

    @property
    def text(self) -> str:
        if self.after is None:
            return f"Forget the decision on predicted cell {self.predicted_id}"
        return (
            f"Mark predicted cell {self.predicted_id} {self.after.review_state.value}"
        )

    def _write(self, decision: PredictedDecision | None) -> None:
        decisions = load_decisions(self.store, self.run, self.image_key)
        if decision is None:
            decisions.pop(self.predicted_id, None)
        else:
            if not decision.when:
                decision = PredictedDecision(
                    decision.review_state, decision.class_name, decision.who, now_iso()
                )
            decisions[self.predicted_id] = decision
        save_decisions(self.store, self.run, self.image_key, decisions)
        log.debug(
            "%s: predicted cell %d -> %s", self.image_key, self.predicted_id, decision
        )

    def apply(self) -> None:
        self._write(self.after)

    def revert(self) -> None:
        self._write(self.before)
