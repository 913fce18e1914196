"""The named colours and shapes task families draw from (sRGB picks; convert with
:func:`synth.degradations.color.srgb_to_linear` for a material)."""

# Named colours (sRGB picks, far apart in hue so names are unambiguous).
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.86, 0.12, 0.10),
    "green": (0.15, 0.70, 0.20),
    "blue": (0.12, 0.30, 0.90),
    "yellow": (0.95, 0.85, 0.10),
    "purple": (0.60, 0.20, 0.80),
    "orange": (1.00, 0.50, 0.05),
    "cyan": (0.10, 0.80, 0.85),
    "white": (0.95, 0.95, 0.95),
}
BACKGROUND_COLORS: dict[str, tuple[float, float, float]] = {
    "black": (0.02, 0.02, 0.02),
    "gray": (0.35, 0.35, 0.35),
    "navy": (0.05, 0.07, 0.20),
    "beige": (0.55, 0.50, 0.40),
}
SHAPES_3D = ("cube", "sphere", "cylinder", "cone", "torus")
SHAPES_2D = ("square", "circle", "triangle")
SHAPES = SHAPES_3D + SHAPES_2D
# A fixed tilt shows 3D shapes as 3D (a cube seen face-on is a square).
TILT_3D_DEG = (20.0, 30.0)


# Colours with a hue (white has none, nor do the gray backgrounds). Objects an oracle must find
# by :func:`object_mask` take FINDABLE_COLORS: shaded orange drifts into red, so it is left
# out too; the rest are at least 35 degrees apart in linear-light hue.
CHROMATIC_COLORS = tuple(c for c in COLORS if c != "white")
FINDABLE_COLORS = ("red", "green", "blue", "yellow", "purple", "cyan")
