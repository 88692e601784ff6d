"""`cervix review summary` and `cervix review queue` on the hand-made run."""

from __future__ import annotations

import argparse

import pytest

from engine.cli.commands import review
from engine.review import ReviewError


def main(argv: list[str]) -> int:
    """`cervix` with only the review command registered: the full parser imports
    every command, the model ones with torch, which these tests do not need."""
    parser = argparse.ArgumentParser(prog="cervix")
    review.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_summary_prints_the_counts_and_writes_csv_and_pdf(sample, tmp_path, capsys):
    csv_path, pdf_path = tmp_path / "summary.csv", tmp_path / "report.pdf"
    status = main(
        [
            "review",
            "summary",
            str(sample.root),
            "--run",
            sample.run,
            "--csv",
            str(csv_path),
            "--pdf",
            str(pdf_path),
            "--reviewer",
            "A. Smith",
        ]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "SYNTHETIC" in out
    total = next(line for line in out.splitlines() if line.startswith("TOTAL"))
    assert total.split() == ["TOTAL", "44", "44", "0", "0", "0", "0"]
    assert csv_path.read_text(encoding="utf-8").splitlines()[-1].startswith("TOTAL,44,")
    assert pdf_path.read_bytes().startswith(b"%PDF-")


def test_queue_lists_the_most_suspicious_cells_first(sample, capsys):
    status = main(
        ["review", "queue", str(sample.root), "--run", sample.run, "--top", "3"]
    )

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert "44 cells to review, the first 3 shown:" in lines
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("rank"))
    rows = [line.split() for line in lines[header + 1 :]]
    assert [(row[1], row[2], row[3]) for row in rows] == [
        (sample.koilo, "cell", "1"),
        (sample.koilo, "predicted", "3"),
        (sample.para, "predicted", "2"),
    ]
    assert rows[0][5] == "0.950"


def test_training_queue_says_why(sample, capsys):
    status = main(
        [
            "review",
            "queue",
            str(sample.root),
            "--run",
            sample.run,
            "--top",
            "1",
            "--training",
        ]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "classifier says metaplastic, annotation says koilocytotic" in out


def test_a_missing_run_is_named_with_the_stored_ones(sample):
    with pytest.raises(ReviewError, match="has no model run 'run-9'.*run-1"):
        main(["review", "queue", str(sample.root), "--run", "run-9"])
    with pytest.raises(ReviewError, match="add --run with one of: run-1"):
        main(["review", "queue", str(sample.root)])
