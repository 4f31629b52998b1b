"""The lens guide: what a visitor's phone recognises and what it tells, from IIIF.

A guide is a collection a curator chose (``default``: every artwork in the catalog). Its
artworks are canvases, its details their annotated regions; texts come from labels,
summaries, metadata and annotation bodies in every language present, media (audio, video)
from annotations and links. Curators override texts and media (`overrides`). Item ids are
those of ``lens/BUNDLE.md``: the published file stem (the canvas id's last segment) for an
artwork, ``<artwork>__<detail>`` for a detail.

* `paths` — guide ids, where a guide's files live, bundle versions;
* `model` — `Guide` and `GuideItem` (as the bundle's ``items``);
* `texts` — language maps and media links;
* `catalog` — a guide read from the catalog;
* `overrides` — curators' overrides, validated and applied.
"""

from loupe_guide.catalog import GuideDefinition, guide_from_catalog, read_definition, write_definition
from loupe_guide.errors import GuideError, InvalidOverride, UnknownGuide, UnknownGuideItem
from loupe_guide.model import Guide, GuideItem
from loupe_guide.overrides import OVERRIDE_FIELDS, apply_overrides, read_overrides, set_override
from loupe_guide.paths import DEFAULT_GUIDE, check_guide_id, current_version, guide_dir, lens_dir

__all__ = [
    "DEFAULT_GUIDE", "OVERRIDE_FIELDS", "Guide", "GuideDefinition", "GuideError", "GuideItem", "InvalidOverride",
    "UnknownGuide", "UnknownGuideItem", "apply_overrides", "check_guide_id", "current_version", "guide_dir",
    "guide_from_catalog", "lens_dir", "read_definition", "read_overrides", "set_override", "write_definition",
]
