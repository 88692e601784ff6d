"""Screening review: the most suspicious cells first, triage decisions as undoable
edits, the training queue, the review summary and report, model-assisted outlines."""

from engine.review.active import TrainingCandidate, normalised_entropy, training_queue
from engine.review.assist import Proposal, propose_outline
from engine.review.decisions import PredictedDecision, RecordDecision, load_decisions
from engine.review.errors import ReviewError
from engine.review.ranking import (
    ReviewCandidate,
    ReviewSource,
    collect_candidates,
    group_by_class,
    image_candidates,
)
from engine.review.report import report_pdf, write_report
from engine.review.summary import (
    ReviewCounts,
    ReviewSummary,
    summarise,
    summary_csv,
    write_summary_csv,
)
from engine.review.thumbnails import (
    DatasetImages,
    SlideImages,
    cell_thumbnail,
    region_reader_for,
)
from engine.review.triage import Triage, accept, reclassify, reject

__all__ = [
    "DatasetImages",
    "PredictedDecision",
    "Proposal",
    "RecordDecision",
    "ReviewCandidate",
    "ReviewCounts",
    "ReviewError",
    "ReviewSource",
    "ReviewSummary",
    "SlideImages",
    "TrainingCandidate",
    "Triage",
    "accept",
    "cell_thumbnail",
    "collect_candidates",
    "group_by_class",
    "image_candidates",
    "load_decisions",
    "normalised_entropy",
    "propose_outline",
    "reclassify",
    "region_reader_for",
    "reject",
    "report_pdf",
    "summarise",
    "summary_csv",
    "training_queue",
    "write_report",
    "write_summary_csv",
]
