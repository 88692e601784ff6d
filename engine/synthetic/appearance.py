"""How synthetic Papanicolaou-stained cells and the slide behind them look.

Light passes through a smear, so each stained layer multiplies what lies
beneath: a layer is a transmission colour (what share of red, green and blue
it lets through) raised to a density map. Overlapping cytoplasm therefore
comes out darker, as on a real slide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Stain:
    """A transmission colour (RGB, 0..1) and how dense the layer is."""

    transmission: tuple[float, float, float]
    density: tuple[float, float]


@dataclass(frozen=True)
class Variant:
    """One way a cell of a class can look: its cytoplasm's and its nucleus's stain."""

    cytoplasm: Stain
    nucleus: Stain
    nucleus_scale: float = 1.0  # nucleus size against the class's usual range
    chromatin: float = 0.3  # strength of the granular chromatin


@dataclass(frozen=True)
class Appearance:
    """Colours and textures of one class's cells."""

    variants: tuple[Variant, ...]  # one is picked per cell
    cytoplasm_texture: float  # strength of the mottled cytoplasm
    edge_density: float  # extra density where the cell's edge curls up
    folds: float  # chance of a fold line across the cell
    granules: float = 0.0  # fine dark cytoplasmic granules (keratohyalin)
    halo: bool = False  # a clear perinuclear cavity (koilocytes)
    second_nucleus: float = 0.0  # chance of a second, unannotated nucleus


# Papanicolaou stain: cyanophilic cytoplasm blue-green, eosinophilic
# (keratinised) cytoplasm pink to orange, nuclei blue-purple from haematoxylin.
_CYAN_PALE = Stain((0.80, 0.91, 0.94), (0.65, 1.0))
_PINK_PALE = Stain((0.98, 0.84, 0.86), (0.7, 1.0))
_ORANGE_PALE = Stain((0.99, 0.87, 0.78), (0.7, 1.0))
_CYAN_DENSE = Stain((0.70, 0.85, 0.87), (1.1, 1.45))
_GREY_BLUE = Stain((0.72, 0.81, 0.88), (1.1, 1.4))
_GREEN_GREY = Stain((0.76, 0.87, 0.85), (1.0, 1.3))
_PINK_DENSE = Stain((0.95, 0.76, 0.78), (1.1, 1.4))
_ORANGE_DENSE = Stain((0.97, 0.70, 0.52), (1.0, 1.4))
_RED_ORANGE = Stain((0.95, 0.64, 0.54), (1.0, 1.35))
_PYKNOTIC = Stain((0.30, 0.24, 0.42), (1.2, 1.5))
_VESICULAR = Stain((0.55, 0.47, 0.70), (1.3, 1.6))
_HYPERCHROMATIC = Stain((0.40, 0.30, 0.52), (1.5, 1.9))

APPEARANCE = {
    # Superficial cells: eosinophilic with a pyknotic nucleus; intermediate
    # cells: cyanophilic with a larger vesicular nucleus.
    "superficial-intermediate": Appearance(
        variants=(
            Variant(_PINK_PALE, _PYKNOTIC, 0.8, 0.12),
            Variant(_ORANGE_PALE, _PYKNOTIC, 0.8, 0.12),
            Variant(_CYAN_PALE, _VESICULAR, 1.2, 0.35),
            Variant(_CYAN_PALE, _VESICULAR, 1.2, 0.35),
            Variant(_CYAN_PALE, _PYKNOTIC, 0.9, 0.15),
        ),
        cytoplasm_texture=0.24,
        edge_density=0.9,
        folds=0.6,
        granules=0.5,
    ),
    "parabasal": Appearance(
        variants=(
            Variant(_CYAN_DENSE, _VESICULAR, 1.0, 0.35),
            Variant(_GREY_BLUE, _VESICULAR, 1.0, 0.35),
            Variant(_GREEN_GREY, _VESICULAR, 1.0, 0.35),
        ),
        cytoplasm_texture=0.2,
        edge_density=0.35,
        folds=0.0,
    ),
    "metaplastic": Appearance(
        variants=(
            Variant(_GREY_BLUE, _VESICULAR, 1.0, 0.35),
            Variant(_CYAN_DENSE, _VESICULAR, 1.0, 0.35),
            Variant(_GREEN_GREY, _VESICULAR, 1.0, 0.35),
        ),
        cytoplasm_texture=0.28,
        edge_density=0.45,
        folds=0.0,
    ),
    "koilocytotic": Appearance(
        variants=(
            Variant(_CYAN_DENSE, _HYPERCHROMATIC, 1.0, 0.45),
            Variant(_PINK_DENSE, _HYPERCHROMATIC, 1.0, 0.45),
            Variant(_GREY_BLUE, _HYPERCHROMATIC, 1.0, 0.45),
        ),
        cytoplasm_texture=0.2,
        edge_density=0.25,
        folds=0.2,
        halo=True,
        second_nucleus=0.2,
    ),
    "dyskeratotic": Appearance(
        variants=(
            Variant(_ORANGE_DENSE, _PYKNOTIC, 1.0, 0.15),
            Variant(_RED_ORANGE, _PYKNOTIC, 1.0, 0.15),
            Variant(_ORANGE_DENSE, _HYPERCHROMATIC, 1.1, 0.25),
        ),
        cytoplasm_texture=0.18,
        edge_density=0.15,
        folds=0.0,
    ),
}

BACKGROUND_RGB = (236.0, 231.0, 240.0)


def appearance(class_name: str) -> Appearance:
    try:
        return APPEARANCE[class_name]
    except KeyError:
        known = ", ".join(APPEARANCE)
        raise KeyError(f"no appearance for class {class_name!r}; use {known}") from None


def smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], sigma: float
) -> np.ndarray:
    """Noise with features about `sigma` pixels wide, scaled to unit spread."""
    height, width = shape
    if sigma > 6:
        # Broad features: blur a coarse grid and enlarge it, far cheaper than a
        # kernel hundreds of pixels wide.
        step = sigma / 3
        coarse = (max(int(height / step) + 2, 2), max(int(width / step) + 2, 2))
        small = smooth_noise(rng, coarse, 3.0)
        noise = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    else:
        noise = rng.standard_normal(shape).astype(np.float32)
        if sigma > 0.3:
            noise = cv2.GaussianBlur(
                noise, (0, 0), sigma, borderType=cv2.BORDER_REFLECT
            )
    spread = float(noise.std())
    return noise / spread if spread > 0 else noise


def absorb(
    canvas: np.ndarray, top_left: tuple[int, int], stain_rgb, density: np.ndarray
) -> None:
    """Multiply a stained layer of this density into the canvas, in place."""
    x, y = top_left
    height, width = density.shape
    region = canvas[y : y + height, x : x + width]
    transmission = np.asarray(stain_rgb, dtype=np.float32)
    region *= np.power(transmission[None, None, :], density[:, :, None])


def polygon_mask(vertices: np.ndarray, top_left: tuple[int, int], shape) -> np.ndarray:
    """The pixels inside an outline, as 0/1 float32, in a box starting at top_left."""
    mask = np.zeros(shape, dtype=np.uint8)
    shift = 4
    points = np.round((vertices - np.asarray(top_left)) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [points], 1, lineType=cv2.LINE_8, shift=shift)
    return mask.astype(np.float32)


def new_background(
    rng: np.random.Generator, size: tuple[int, int], pixels_per_micron: float
) -> np.ndarray:
    """An empty stretch of slide: light, unevenly lit, float32 RGB in 0..255."""
    width, height = size
    base = np.array(BACKGROUND_RGB, dtype=np.float32) + rng.uniform(-4, 4, 3)
    canvas = np.broadcast_to(base, (height, width, 3)).astype(np.float32)
    scale = max(min(width, height) / 6, 4.0)
    unevenness = smooth_noise(rng, (height, width), scale)
    canvas *= (1 + 0.025 * unevenness)[:, :, None]
    # Thin mucus and protein wisps that the stain catches faintly.
    wisp = np.clip(smooth_noise(rng, (height, width), 3.0 * pixels_per_micron), 0, None)
    wisp *= np.clip(smooth_noise(rng, (height, width), scale), 0, None)
    absorb(canvas, (0, 0), (0.85, 0.88, 0.95), 0.06 * wisp.astype(np.float32))
    return canvas


def scatter_debris(
    rng: np.random.Generator, canvas: np.ndarray, pixels_per_micron: float, amount: int
) -> None:
    """Inflammatory cells and granular debris, left unannotated as on real slides."""
    height, width = canvas.shape[:2]
    for _ in range(amount):
        x = rng.uniform(0, width)
        y = rng.uniform(0, height)
        kind = rng.random()
        if kind < 0.55:
            _neutrophil(rng, canvas, (x, y), pixels_per_micron)
        elif kind < 0.75:
            radius = rng.uniform(2.5, 3.5) * pixels_per_micron
            _blob(rng, canvas, (x, y), radius, (0.5, 0.44, 0.66), 1.1)
        else:
            radius = rng.uniform(0.4, 1.5) * pixels_per_micron
            _blob(rng, canvas, (x, y), radius, (0.7, 0.55, 0.6), rng.uniform(0.6, 1.6))


def _neutrophil(
    rng: np.random.Generator, canvas: np.ndarray, centre, pixels_per_micron: float
) -> None:
    """A faint round cell body with two to four dark nuclear lobes."""
    body = rng.uniform(4.0, 5.5) * pixels_per_micron
    _blob(rng, canvas, centre, body, (0.85, 0.88, 0.92), 0.7)
    for _ in range(int(rng.integers(2, 5))):
        angle = rng.uniform(0, 2 * math.pi)
        distance = rng.uniform(0.2, 0.5) * body
        lobe = (
            centre[0] + distance * math.cos(angle),
            centre[1] + distance * math.sin(angle),
        )
        radius = rng.uniform(1.0, 1.6) * pixels_per_micron
        _blob(rng, canvas, lobe, radius, (0.5, 0.44, 0.64), 1.2)


def _blob(
    rng: np.random.Generator,
    canvas: np.ndarray,
    centre,
    radius: float,
    stain_rgb,
    density: float,
) -> None:
    height, width = canvas.shape[:2]
    pad = int(math.ceil(radius * 1.4)) + 2
    x0, y0 = int(centre[0]) - pad, int(centre[1]) - pad
    x1, y1 = x0 + 2 * pad + 1, y0 + 2 * pad + 1
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    angle = np.arctan2(ys - centre[1], xs - centre[0])
    wobble = (
        1
        + 0.15 * np.cos(2 * angle + rng.uniform(0, 6))
        + 0.08 * np.cos(3 * angle + rng.uniform(0, 6))
    )
    distance = np.hypot(xs - centre[0], ys - centre[1]) / (radius * wobble)
    layer = np.clip(1.5 - 1.5 * distance, 0, 1) * density
    layer = layer[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0].astype(np.float32)
    absorb(canvas, (cx0, cy0), stain_rgb, layer)


def finish(
    rng: np.random.Generator, canvas: np.ndarray, pixels_per_micron: float
) -> np.ndarray:
    """Optics and camera: a slight blur and sensor noise; uint8 RGB."""
    sigma = max(0.55, 0.3 * pixels_per_micron)
    blurred = cv2.GaussianBlur(canvas, (0, 0), sigma)
    noisy = blurred + 1.6 * rng.standard_normal(blurred.shape, dtype=np.float32)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)
