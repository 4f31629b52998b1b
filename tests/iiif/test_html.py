"""The IIIF HTML sanitiser: the OWASP filter-evasion payloads as HTML values and inside
text, what stays untouched (valid IIIF HTML, readable text with ``<``), and URL schemes in
every spelling."""

from __future__ import annotations

import re

import pytest

from iiif.html import is_safe_url, looks_like_html, sanitise_html, sanitise_value, url_scheme
from tests.support.xss import PAYLOADS, assert_safe_html

# Payloads whose markup is harmless under HTML5 parsing (kept as text when not HTML).
HARMLESS = {"\\\";alert('XSS');//", "<A HREF=\"http://www.google.com/ogle.com/\">XSS</A>"}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_as_a_value_comes_out_safe_and_stable(payload: str) -> None:
    result = sanitise_value(payload)
    assert_safe_html(result.text, payload)
    assert sanitise_value(result.text).text == result.text  # sanitising again changes nothing
    if payload not in HARMLESS:
        assert result.removed, payload
    # No script survives inside a tag (as text it is only words).
    assert not any("alert" in tag.lower() for tag in re.findall(r"<[^>]*>", result.text)), result.text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_inside_text_turns_it_into_safe_html(payload: str) -> None:
    """Text by the IIIF rule (does not start with "<"), but carrying unsafe markup."""
    value = f"Portrait of a lady, {payload} (oil on panel)"
    result = sanitise_value(value)
    if payload in HARMLESS:
        assert result.text == value and not result.is_html
        return
    assert result.is_html and result.unsafe, payload
    assert_safe_html(result.text, payload)
    assert result.text.startswith("<span>Portrait of a lady, ") and result.text.endswith("</span>")
    assert sanitise_value(result.text).text == result.text


@pytest.mark.parametrize("text", [
    "a < b and c > d", "Artist: <unknown>", "x<y and y>z", "<3 this painting", "Tom & Jerry",
    "Dimensions: <10 cm", "a <b>bold</b> word not wrapped in a tag", "see <data: 5>", "->",
    "C:\\Users\\<name>", "Price <= 5 & >= 2",
])
def test_readable_text_stays_as_it_is(text: str) -> None:
    result = sanitise_value(text)
    assert (result.text, result.is_html, result.removed) == (text, False, ())


@pytest.mark.parametrize("html_value", [
    '<p><a href="https://example.org">Berliner Tageblatt</a> - <b>Public Domain</b><br><img src="x.png" alt="a"></p>',
    '<span>Tom &amp; Jerry &lt;3</span>',
    '<p>H<sub>2</sub>O and E=mc<sup>2</sup>, <i>in situ</i>, <small>(c) 1900</small></p>',
    '<a href="mailto:curator@example.org">write to us</a>',
    '<a href="/relative/path?q=1#x">relative</a>',
])
def test_valid_iiif_html_passes_unchanged(html_value: str) -> None:
    result = sanitise_value(html_value)
    assert (result.text, result.is_html, result.removed) == (html_value, True, ())


@pytest.mark.parametrize("raw, clean", [
    ("<p>a<br/>b</p>", "<p>a<br>b</p>"),
    ("<P CLASS=x>Hi</P>", "<p>Hi</p>"),
    ("<a href='https://e.org' title='t'>x</a>", '<a href="https://e.org">x</a>'),
    ('<a href="https://e.org/?a=1&amp;b=&quot;2&quot;">x</a>', '<a href="https://e.org/?a=1&amp;b=&quot;2&quot;">x</a>'),
    ("<div><p>one</p><table><tr><td>two</td></tr></table></div>", "<span><p>one</p>two</span>"),
    ("<foo>Tom &amp; Jerry</foo>", "<span>Tom &amp; Jerry</span>"),
    ("<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>"),
    ("<b><i>crossed</b></i>", "<b><i>crossed</i></b>"),
    ("\u200b\ufeff <script>alert(1)</script>\u2028", ""),
    ("<p>kept</p><!-- gone -->", "<p>kept</p>"),
    ("<p>x</p><iframe src=\"a>", "<p>x</p>"),
])
def test_html_is_written_back_canonically(raw: str, clean: str) -> None:
    assert sanitise_html(raw).text == clean


def test_invisible_characters_do_not_hide_html() -> None:
    """A consumer that trims a BOM or a zero-width space would see HTML: so do we."""
    for wrapper in ("\ufeff{}", "\u200b{}\u200b", "\u00a0{}\n", "\x00{}", "\u202e{}"):
        value = wrapper.format("<img src=x onerror=alert(1)>")
        assert looks_like_html(value)
        assert sanitise_value(value).text == '<img src="x">'


@pytest.mark.parametrize("url, scheme", [
    ("https://e.org/", "https"), ("HTTP://e.org", "http"), ("/a/b:c", ""), ("?q=a:b", ""), ("#x:y", ""),
    ("javascript:alert(1)", "javascript"), (" \x01\x0ejavascript:alert(1)", "javascript"),
    ("java\tscript:alert(1)", "javascript"), ("jav\nascript:x", "javascript"), ("JaVaScRiPt:x", "javascript"),
    ("data:text/html,x", "data"), ("vbscript:x", "vbscript"), ("java script:x", None), ("1abc:x", None),
])
def test_url_scheme_is_read_as_a_browser_reads_it(url: str, scheme: str | None) -> None:
    assert url_scheme(url) == scheme


def test_only_web_schemes_are_safe() -> None:
    assert is_safe_url("https://e.org/x") and is_safe_url("mailto:a@b.org") and is_safe_url("rel/ative")
    assert not is_safe_url("rel/ative", relative=False)
    for url in ("javascript:alert(1)", "data:image/png;base64,AAAA", "vbscript:x", "file:///etc/passwd",
                "java\tscript:x", "\x00javascript:x"):
        assert not is_safe_url(url), url
