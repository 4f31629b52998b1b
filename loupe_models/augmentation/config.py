"""How a visitor's phone sees an artwork, as data: probabilities and ranges sampled per view."""

from __future__ import annotations

from dataclasses import dataclass, replace

Range = tuple[float, float]


@dataclass(frozen=True)
class VisitorCamera:
    # Output: the long side in pixels; phones are mostly held upright.
    long_side: int = 384
    portrait_p: float = 0.6
    # Largest side the artwork is worked at (the scene is drawn around it at this scale).
    work_side: int = 1024
    # Framing: the whole artwork, or a detail (an annotated box when there is one, else a part
    # of `detail_share` of the artwork's size), with `margin` around it as a share of its size
    # (negative: the visitor cuts into it).
    detail_p: float = 0.35
    detail_share: Range = (0.3, 0.7)
    margin: Range = (-0.08, 0.35)
    # Viewing angle in degrees (turning sideways, tilting up or down, rolling the phone), and
    # the focal length as a share of the image's long side (phones: about 0.8).
    yaw: float = 45.0
    pitch: float = 25.0
    roll: float = 12.0
    focal: Range = (0.7, 1.3)
    # The gallery around the artwork.
    gallery_p: float = 0.8
    frame_p: float = 0.85
    neighbours_p: float = 0.7
    # In the scene and on the lens.
    people_p: float = 0.25
    glare_p: float = 0.35
    smudge_p: float = 0.15
    vignette_p: float = 0.5
    # The camera's processing (albumentations).
    photometric: bool = True
    temperature_p: float = 0.7
    brightness: float = 0.25
    contrast: float = 0.25
    gamma: Range = (70, 150)
    noise_p: float = 0.5
    motion_blur_p: float = 0.2
    defocus_p: float = 0.15
    jpeg_p: float = 0.7
    jpeg_quality: Range = (35, 92)
    # A box is kept when at least this share of it is in view and not covered by people.
    min_visible: float = 0.5


# Geometry and scene only: what the box-consistency tests look at.
GEOMETRY_ONLY = replace(VisitorCamera(), photometric=False, people_p=0.0, glare_p=0.0, smudge_p=0.0,
                        vignette_p=0.0)
