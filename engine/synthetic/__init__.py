"""The built-in synthetic sample: Pap-smear-like cluster images with exact outlines.

`make_dataset` writes a whole SIPaKMeD-style dataset. To paint cells elsewhere
(a large synthetic slide, say), make a canvas with `new_background`, call
`draw_cluster_into` once per cluster, and turn it into an image with `finish`;
`draw_cluster_image` does those three steps for one cluster image.
"""

from engine.synthetic.appearance import finish, new_background, scatter_debris
from engine.synthetic.dataset import make_dataset
from engine.synthetic.render import (
    SyntheticCell,
    default_pixels_per_micron,
    draw_cluster_image,
    draw_cluster_into,
)
from engine.synthetic.shapes import MORPHOLOGY

CLASS_NAMES = tuple(MORPHOLOGY)

__all__ = [
    "CLASS_NAMES",
    "SyntheticCell",
    "default_pixels_per_micron",
    "draw_cluster_image",
    "draw_cluster_into",
    "finish",
    "make_dataset",
    "new_background",
    "scatter_debris",
]
