"""The web pages the service serves itself: the search page (plain HTML, CSS and JavaScript;
no framework, no CDN), usable on a desktop and on a phone."""
