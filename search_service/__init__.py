"""The Flask application: search API, IIIF Content Search, annotations out, web pages."""
