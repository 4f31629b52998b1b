"""Writers for every IIIF output Loupe makes (pure code, no I/O).

- ``annotations``: Presentation 3 AnnotationPages of machine annotations.
- ``content_search``: Content Search 1.0/2.0 and autocomplete responses, service blocks.
- ``content_state``: Content State 1.0 encoding and ``?iiif-content=`` links.

Image API request URLs are in ``iiif.image_api``; schema validation in ``iiif.validation``.
"""

from iiif.writers.annotations import (
    LOUPE_CONTEXT,
    LOUPE_CONTEXT_DOCUMENT,
    MachineAnnotation,
    annotation_page,
    annotation_to_dict,
)
from iiif.writers.content_search import (
    Paging,
    Term,
    TextMatch,
    autocomplete_response_v1,
    autocomplete_response_v2,
    search_response_v1,
    search_response_v2,
    service_blocks,
)
from iiif.writers.content_state import (
    content_state_for_region,
    content_state_link,
    decode_content_state,
    encode_content_state,
)

__all__ = [
    "LOUPE_CONTEXT", "LOUPE_CONTEXT_DOCUMENT", "MachineAnnotation", "annotation_page",
    "annotation_to_dict", "Paging", "Term", "TextMatch", "autocomplete_response_v1",
    "autocomplete_response_v2", "search_response_v1", "search_response_v2", "service_blocks",
    "content_state_for_region", "content_state_link", "decode_content_state",
    "encode_content_state",
]
