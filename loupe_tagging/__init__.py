"""Zero-shot tagging: label images and regions with a vocabulary, no training needed.

Vocabularies (the built-in default and curators' lists per collection, ``vocabulary_store``),
prompt ensembling (``prompts``), cached label embeddings (``label_embeddings``), scoring
(``scoring``: what a score means), and tagging a whole collection into the catalog as machine
annotations with provenance for curators to accept or reject (``collection``, ``machine_tags``).
"""

from .collection import DEFAULT_THRESHOLD, DEFAULT_TOP_K, TagReport, tag_collection
from .label_embeddings import LabelEmbeddingCache, embed_vocabulary
from .machine_tags import Correction, InvalidCorrection, RegionNotFound, ReviewError, set_review
from .scope import ScopeError, resolve_scope
from .scoring import LOGIT_SCALE, Tagger, label_probabilities
from .vocabulary import Term, Vocabulary, VocabularyError, default_vocabulary, make_vocabulary, read_vocabulary_file
from .vocabulary_store import VocabularyStore

__all__ = [
    "Correction", "DEFAULT_THRESHOLD", "DEFAULT_TOP_K", "InvalidCorrection", "LOGIT_SCALE", "LabelEmbeddingCache", "RegionNotFound", "ReviewError",
    "ScopeError", "TagReport", "Tagger", "Term", "Vocabulary", "VocabularyError", "VocabularyStore",
    "default_vocabulary", "embed_vocabulary", "label_probabilities", "make_vocabulary", "read_vocabulary_file",
    "resolve_scope", "set_review", "tag_collection",
]
