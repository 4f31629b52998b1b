"""The search page as served (HTML, static files), without a browser."""

from __future__ import annotations

import re


def test_search_page_and_its_static_files(client, indexed_demo) -> None:  # noqa: ANN001
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert 'role="search"' in html and '<label for="q"' in html and 'capture="environment"' in html
    assert f'<option value="{indexed_demo.collection_url}">' in html  # the collection filter
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)  # nothing from another site (no CDN)
    assert client.get("/search").get_data(as_text=True) == html
    css = client.get("/static/web/search.css")
    js = client.get("/static/web/search.js")
    assert css.status_code == js.status_code == 200
    assert css.mimetype == "text/css" and "javascript" in js.mimetype
    assert "/api/search/composed" in js.get_data(as_text=True)
