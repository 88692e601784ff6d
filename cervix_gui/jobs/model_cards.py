"""Finding a dataset's checkpoints and reading their model cards, as the models
dock lists them. Reading a card goes through engine.models, which imports
torch, so the dock calls `read_cards` in a worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from engine.errors import CervixError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedModel:
    """A checkpoint folder the dock shows, and its card."""

    folder: Path
    card: object  # engine.models.ModelCard


def candidate_folders(dataset_root: Path | None, added: list[str]) -> list[Path]:
    """The dataset's run folders under .cervix/models/, then the added ones;
    only a look at the folders, no card read."""
    found: list[Path] = []
    if dataset_root is not None:
        models = Path(dataset_root) / ".cervix" / "models"
        if models.is_dir():
            found += sorted(
                f for f in models.iterdir() if f.is_dir() and not f.name.startswith(".")
            )
    for text in added:
        path = Path(text)
        if path not in found:
            found.append(path)
    return found


def read_cards(folders: list[Path]) -> list[ListedModel]:
    """The folders that hold a readable checkpoint, each with its card."""
    from engine.models import read_card

    listed = []
    for folder in folders:
        try:
            listed.append(ListedModel(folder, read_card(folder)))
        except CervixError as error:
            log.info("Model not listed: %s", error.user_message())
    return listed


def card_text(card) -> str:
    """A checkpoint's card, as a person reads it."""
    data = card.data or {}
    trained_on = data.get("dataset") or data.get("root") or "unknown data"
    figures = card.metrics.get("test") or card.metrics.get("validation") or {}
    shown = ", ".join(
        f"{name} {value:.3f}"
        for name, value in figures.items()
        if isinstance(value, int | float)
    )
    return "\n".join(
        [
            f"{card.task} · {card.arch} · {card.input_size} px",
            f"Classes ({card.class_scheme}): {', '.join(card.classes)}",
            f"Trained on: {trained_on}",
            f"Figures: {shown or 'none recorded'}",
            f"Epoch {card.epoch}, saved {card.created}",
        ]
    )
