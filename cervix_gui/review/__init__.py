"""Screening review in the window: the gallery of the most suspicious cells with
keyboard triage, the review summary, and model-assisted outlines."""
