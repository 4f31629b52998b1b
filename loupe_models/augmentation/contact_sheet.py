"""A contact sheet: views in a grid, each with its boxes and labels, as one PNG."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from loupe_models.augmentation.samples import View

PALETTE = ((255, 64, 64), (64, 220, 64), (64, 160, 255), (255, 200, 0), (255, 64, 255), (0, 230, 230))


def label_colour(label: str) -> tuple[int, int, int]:
    return PALETTE[zlib.crc32(label.encode()) % len(PALETTE)]


def contact_sheet(views: Sequence[View], columns: int = 6, cell: int = 240, captions: bool = True) -> Image.Image:
    """Views scaled to fit `cell` pixels, boxes drawn in a colour per label, and under each a
    caption (source, view number, framing, yaw)."""
    font = ImageFont.load_default()
    caption_h = 14 if captions else 0
    rows = max(1, -(-len(views) // columns))
    sheet = Image.new("RGB", (columns * (cell + 4) + 4, rows * (cell + caption_h + 4) + 4), (24, 24, 24))
    for i, view in enumerate(views):
        image = Image.fromarray(view.image)
        f = cell / max(image.size)
        image = image.resize((max(1, round(image.width * f)), max(1, round(image.height * f))), Image.Resampling.LANCZOS)
        draw = ImageDraw.Draw(image)
        for box, label in zip(view.boxes, view.labels):
            x0, y0, x1, y1 = (float(v) * f for v in box)
            draw.rectangle((x0, y0, x1, y1), outline=label_colour(label), width=2)
            draw.text((x0 + 3, y0 + 2), label, fill=label_colour(label), font=font)
        x = 4 + (i % columns) * (cell + 4) + (cell - image.width) // 2
        y = 4 + (i // columns) * (cell + caption_h + 4)
        sheet.paste(image, (x, y + (cell - image.height) // 2))
        if captions:
            text = f"{view.source_id[:22]} #{view.index} {view.info.get('framing', '')} {view.info.get('yaw', '')}"
            ImageDraw.Draw(sheet).text((4 + (i % columns) * (cell + 4), y + cell + 1), text, fill=(200, 200, 200),
                                       font=font)
    return sheet


def write_contact_sheet(path: str | Path, views: Sequence[View], **options: object) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(views, **options).save(path, format="PNG", optimize=True)
    return path
