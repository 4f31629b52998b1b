"""The pages' Content-Security-Policy in a real Chromium: it is in force (markup injected into
the search page cannot run script), and the API documentation page, whose script and styles
are inline, still renders under its hash-based policy. The search page's and the viewer's
own flows run under their policies in every other browser test (a violation is a console
error, which fails them)."""

from __future__ import annotations

INJECT = """() => {
  document.body.insertAdjacentHTML('beforeend', '<img id="injected" src="data:," onerror="window.xssRan = 1">');
  const script = document.createElement('script');
  script.textContent = 'window.xssRan = 2';
  document.body.append(script);
}"""


def test_markup_injected_into_the_search_page_cannot_run_script(browser, live_server) -> None:  # noqa: ANN001
    context = browser.new_context()
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(live_server.url + "/")
        page.evaluate(INJECT)  # the DevTools protocol may; the page's own markup may not
        page.wait_for_selector("#injected", state="attached")
        page.wait_for_timeout(300)
        assert page.evaluate("window.xssRan") is None
        assert len(violations) >= 2, violations  # the inline handler and the inline script, both refused
        assert page.evaluate("document.querySelector('#search-form') !== null")  # the page itself runs
    finally:
        context.close()


def test_the_api_documentation_renders_under_its_policy(open_page) -> None:  # noqa: ANN001
    page = open_page(path="/docs")
    page.wait_for_function("document.querySelectorAll('#nav a').length > 10")
    assert "/api/search" in page.inner_text("#content")
    assert page.evaluate("getComputedStyle(document.querySelector('header')).borderBottomStyle") == "solid"
