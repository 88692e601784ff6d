"""`cervix info PATH`: what an image is: format, size, pyramid, tiles, pixel size."""

from __future__ import annotations

import json
from pathlib import Path

from engine.images import open_image

# The help listing reads this without importing the module.
SUMMARY = "describe an image or slide: size, pyramid levels, tiles, µm/px"


def register(subparsers) -> None:
    parser = subparsers.add_parser("info", help=SUMMARY)
    parser.add_argument("path", type=Path, help="an image or whole-slide file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def describe(path: Path) -> dict:
    """The facts `cervix info` shows, as a JSON-ready dictionary."""
    with open_image(path) as source:
        width, height = source.size
        return {
            "path": str(path),
            "format": source.format_name,
            "backend": type(source).__name__,
            "width": width,
            "height": height,
            "levels": [
                {
                    "width": level.width,
                    "height": level.height,
                    "downsample": round(level.downsample, 4),
                }
                for level in source.levels
            ],
            "tile_size": source.tile_size,
            "microns_per_pixel": source.microns_per_pixel,
            "compression": source.compression,
        }


def run(args) -> int:
    facts = describe(args.path)
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    mpp = facts["microns_per_pixel"]
    print(facts["path"])
    print(f"  format       {facts['format']} (read by {facts['backend']})")
    print(f"  size         {facts['width']} x {facts['height']} pixels")
    print(f"  pixel size   {f'{mpp:.4g} um' if mpp else 'unknown'}")
    print(f"  tile size    {facts['tile_size']}")
    print(f"  compression  {facts['compression'] or 'unknown'}")
    print(f"  levels       {len(facts['levels'])}")
    for index, level in enumerate(facts["levels"]):
        print(
            f"    {index}: {level['width']} x {level['height']}"
            f"  (downsample {level['downsample']:g})"
        )
    return 0
