"""The built-in vocabulary: labels that help in most museum and library collections.

Grouped so that a curator can read what the default covers and write a better list for a
collection (`loupe tag vocab set`). Short English noun phrases: CLIP learned from captions,
so the prompt templates (``prompts.py``) turn each into a sentence before it is embedded.
"""

from __future__ import annotations

DEFAULT_NAME = "default"

ICONOGRAPHY: tuple[str, ...] = (
    "Annunciation", "Nativity", "Adoration of the Magi", "Crucifixion", "Deposition",
    "Lamentation", "Resurrection", "Last Supper", "Baptism of Christ", "Madonna and Child",
    "Holy Family", "Pietà", "Last Judgment", "Assumption of the Virgin", "Flight into Egypt",
    "saint", "angel", "putto", "halo", "martyrdom", "Saint Jerome", "Saint George and the dragon",
    "Saint Sebastian", "Adam and Eve", "Venus", "allegory", "mythological scene", "nymph", "satyr",
    "vanitas",
)

SUBJECTS: tuple[str, ...] = (
    "portrait", "self-portrait", "group portrait", "equestrian portrait", "landscape", "seascape",
    "cityscape", "still life", "battle", "genre scene", "interior", "nude", "religious scene",
    "history painting", "hunting scene", "market scene", "banquet", "dance", "music making",
    "children playing", "night scene", "winter landscape", "storm", "ruins", "architecture",
    "garden", "map", "coat of arms", "inscription", "calligraphy", "ornament", "floral pattern",
    "abstract composition", "profile", "crowd", "procession", "shipwreck", "harbour", "mountain",
    "river",
)

OBJECTS: tuple[str, ...] = (
    "book", "lily", "skull", "horse", "ship", "boat", "sword", "crown", "throne", "cross", "candle",
    "flowers", "fruit", "bread", "wine glass", "jug", "vase", "musical instrument", "lute", "violin",
    "clock", "mirror", "globe", "letter", "flag", "dog", "cat", "bird", "dove", "lion", "cow",
    "sheep", "fish", "tree", "sky", "clouds", "moon", "sun", "column", "arch", "window", "door",
    "table", "chair", "bed", "church", "castle", "bridge", "armour", "helmet", "shield", "spear",
    "cannon", "hat", "jewellery", "pearl necklace", "fan", "veil", "wings", "lamb",
)

TECHNIQUES: tuple[str, ...] = (
    "oil painting", "fresco", "tempera on panel", "watercolour", "engraving", "etching",
    "woodcut", "lithograph", "drawing", "pen and ink drawing", "chalk drawing", "sketch",
    "photograph", "black and white photograph", "illuminated manuscript", "tapestry", "mosaic",
    "stained glass", "sculpture", "relief", "bust", "ceramic", "coin", "medal", "textile",
    "poster", "print", "miniature", "altarpiece", "triptych", "diptych", "icon",
)

DEFAULT_LABELS: tuple[str, ...] = tuple(dict.fromkeys(ICONOGRAPHY + SUBJECTS + OBJECTS + TECHNIQUES))
