"""`cervix synth OUT`: draw the built-in synthetic Pap-smear sample, SIPaKMeD style."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.annotations import Dataset, ImageKind
from engine.errors import CervixError

# The help listing reads this without importing the module.
SUMMARY = "draw a synthetic Pap-smear dataset (SIPaKMeD layout)"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help=SUMMARY,
        description="Draw a synthetic Pap-smear dataset in the SIPaKMeD layout: "
        "cluster images with exact cell and nucleus outlines for the five "
        "classes. The cells are not real; the folder is marked as synthetic.",
    )
    parser.add_argument("out", type=Path, help="a new or empty folder")
    parser.add_argument(
        "--images-per-class",
        type=int,
        default=4,
        metavar="N",
        help="cluster images per class (default 4)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--cropped",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write every cell cut out into CROPPED/ (default yes)",
    )
    parser.add_argument(
        "--size",
        type=int,
        nargs=2,
        default=(512, 384),
        metavar=("W", "H"),
        help="cluster image size in pixels (default 512 384)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier synthetic sample in OUT",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from engine.synthetic import make_dataset

    if args.images_per_class < 1:
        raise CervixError("--images-per-class must be at least 1")
    if args.seed < 0:
        raise CervixError(f"--seed {args.seed} is negative; use 0 or more")
    width, height = args.size
    if width < 64 or height < 64:
        raise CervixError(f"--size {width} {height} is too small; use at least 64 64")
    out = make_dataset(
        args.out,
        images_per_class=args.images_per_class,
        seed=args.seed,
        image_size=(width, height),
        cropped=args.cropped,
        overwrite=args.overwrite,
    )
    dataset = Dataset.open(out)
    print(f"{out}  (SYNTHETIC sample, not real patient data)")
    for cell_class in dataset.scheme.classes:
        images = [i for i in dataset.images if i.folder_class == cell_class.name]
        clusters = [i for i in images if i.kind is ImageKind.CLUSTER]
        cells = sum(len(image.cells) for image in clusters)
        crops = len(images) - len(clusters)
        print(
            f"  {cell_class.name:<26} {len(clusters):>4} cluster images "
            f"{cells:>5} cells {crops:>5} cropped"
        )
    if dataset.problems:
        print(f"{len(dataset.problems)} problems:")
        for problem in dataset.problems:
            print(f"  {problem}")
        return 1
    return 0
