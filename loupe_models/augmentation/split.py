"""Training and validation by source image, decided before any augmentation, so that views
of one photograph never end up on both sides (the earlier tools leaked them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from loupe_models.augmentation.samples import Sample


@dataclass(frozen=True)
class Split:
    train: tuple[Sample, ...]
    validation: tuple[Sample, ...]

    def sources(self) -> tuple[frozenset[str], frozenset[str]]:
        return (frozenset().union(*(s.sources for s in self.train)),
                frozenset().union(*(s.sources for s in self.validation)))


def split_by_source(samples: Sequence[Sample], validation: float = 0.2, seed: int = 0) -> Split:
    """About `validation` of the source images (at least one when there are two or more) go to
    validation, chosen by a hash of (seed, source): stable across runs and machines. Samples
    that share a source go together; a sample made of several sources (copy-paste) must not
    be split here: paste within a side after splitting."""
    if not 0 <= validation < 1:
        raise ValueError(f"validation share {validation} is not in [0, 1)")
    if any(s.pasted_from for s in samples):
        raise ValueError("split before copy-paste: samples with pasted regions mix source images")
    sources = sorted({s.source_id for s in samples},
                     key=lambda src: hashlib.sha256(f"{seed}\n{src}".encode()).hexdigest())
    n = round(len(sources) * validation)
    held = set(sources[:max(n, 1 if validation > 0 and len(sources) > 1 else 0)])
    return Split(tuple(s for s in samples if s.source_id not in held),
                 tuple(s for s in samples if s.source_id in held))
