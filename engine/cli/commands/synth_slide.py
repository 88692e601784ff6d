"""`cervix synth-slide OUT.ome.tif --size W H`: a synthetic whole-slide image."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.errors import CervixError
from engine.images.synth_slide import MIN_SIDE, write_synthetic_slide

# The help listing reads this without importing the module.
SUMMARY = "write a synthetic pyramidal OME-TIFF slide and its cells as GeoJSON"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth-slide",
        help=SUMMARY,
        description=(
            "Paint a synthetic Pap-smear slide (pyramidal, JPEG-tiled OME-TIFF, "
            "0.25 um a pixel by default) and write its true cells beside it as "
            "QuPath GeoJSON (NAME.cells.geojson). Same seed, same slide."
        ),
    )
    parser.add_argument("out", type=Path, help="the slide to write, e.g. slide.ome.tif")
    parser.add_argument(
        "--size",
        nargs=2,
        type=int,
        required=True,
        metavar=("WIDTH", "HEIGHT"),
        help="size of level 0 in pixels",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--tile", type=int, default=512, help="tile edge in pixels (default 512)"
    )
    parser.add_argument(
        "--mpp",
        type=float,
        default=0.25,
        help="micrometres per pixel of level 0 (default 0.25)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing slide"
    )
    parser.set_defaults(func=run, parser=parser)


def run(args) -> int:
    width, height = args.size
    if width < MIN_SIDE or height < MIN_SIDE:
        args.parser.error(f"--size must be at least {MIN_SIDE} {MIN_SIDE}")
    if args.tile < 64 or args.tile % 16:
        args.parser.error("--tile must be a multiple of 16, at least 64")
    if not 0.05 <= args.mpp <= 5:
        args.parser.error("--mpp must lie between 0.05 and 5 (a microscope's range)")
    if args.out.exists() and not args.overwrite:
        raise CervixError(
            "the file exists already", args.out, "pass --overwrite to replace it"
        )
    if not args.out.parent.is_dir():
        raise CervixError(
            "the folder does not exist", args.out.parent, "create it first"
        )

    def progress(rows_done: int, rows: int) -> None:
        if sys.stderr.isatty():
            print(f"\rpainting: {100 * rows_done // rows:3d}%", end="", file=sys.stderr)
            if rows_done == rows:
                print(file=sys.stderr)

    slide = write_synthetic_slide(
        args.out,
        (width, height),
        seed=args.seed,
        tile_size=args.tile,
        microns_per_pixel=args.mpp,
        progress=progress,
    )
    print(f"{slide.path}  (SYNTHETIC, not patient data)")
    print(f"  {width}x{height} pixels, {len(slide.levels)} levels, {args.mpp} um/pixel")
    print(f"  {slide.cell_count} cells -> {slide.cells_path}")
    print(f"  {slide.seconds:.1f} s, {slide.path.stat().st_size / 1e6:.1f} MB")
    return 0
