"""OpenAPI pieces the tagging, vocabulary and review endpoints share."""

from __future__ import annotations

LABEL = {"oneOf": [{"type": "string", "maxLength": 200},
                    {"type": "object", "required": ["label"], "additionalProperties": False, "properties": {
                        "label": {"type": "string", "maxLength": 200},
                        "language": {"type": "string", "description": "BCP 47; picks the prompt templates"},
                        "prompt": {"type": "string", "maxLength": 300,
                                   "description": "Used instead of the templates; '{}' stands for the label."}}}]}
ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
ERRORS = {"400": {"$ref": "#/components/responses/BadRequest"},
           "404": {"$ref": "#/components/responses/NotFound"}}
WRITE_ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
                 "403": {"$ref": "#/components/responses/Forbidden"}}
KEY_SECURITY = [{"ApiKey": []}, {"Bearer": []}]
