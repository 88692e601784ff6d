"""Measurements and scores: per-cell morphometry and the models' evaluation metrics."""
