"""Loupe's IIIF outputs in stock Mirador 4.0.0, without Loupe's plugin: a museum's own page
on another site opens a manifest that declares Loupe's annotation page for its canvas and
Loupe's Content Search services (as ``loupe publish --link-loupe`` writes them, and as the
README tells institutions to add them to their own manifests). Mirador draws the machine
annotations, and its own search panel finds words of regions' annotation texts (a curator's
and a machine tag) through Content Search 1, highlighting them, without an error banner."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connector.loupe_links import annotation_page_ref, search_services
from tests.viewer_plugin.browser import route_published
from tests.viewer_plugin.conftest import PLUGIN, SUGGESTIONS

MIRADOR_UMD = PLUGIN / "node_modules" / "mirador" / "dist" / "mirador.min.js"
WINDOW = "museum-window"
# Mirador 4.0.0's own React 19 deprecation notice: not ours, and not an error of the page.
MIRADOR_NOISE = ("Accessing element.ref was removed in React 19",)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Museum viewer</title></head>
<body style="margin:0"><div id="mirador" style="position:absolute;inset:0"></div>
<script src="/mirador.min.js"></script>
<script>
  window.museumViewer = Mirador.viewer({
    id: 'mirador',
    osdConfig: {crossOriginPolicy: 'Anonymous'},
    window: {forceDrawAnnotations: true, highlightAllAnnotations: true},
    windows: [{id: 'museum-window', manifestId: '/manifest.json'}],
  });
</script></body></html>"""


class MuseumSite:
    """The institution's own web server (another origin than Loupe's): its viewer page, stock
    Mirador and the manifest."""

    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                kind, body = site.files.get(self.path.split("?", 1)[0], ("text/plain", b"not found"))
                self.send_response(200 if self.path.split("?", 1)[0] in site.files else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.files = files
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_port}"  # not 127.0.0.1: another origin
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def linked_manifest(server) -> dict:  # noqa: ANN001
    """The demo manifest of the Annunciation with Loupe's outputs declared in it."""
    published = server.app.test_client().get(server.manifest[len(server.published_origin):])
    manifest = published.get_json()
    for canvas in manifest["items"]:
        canvas.setdefault("annotations", []).append(annotation_page_ref(server.url, canvas["id"]))
    manifest["service"] = search_services(server.url, manifest["id"])
    return manifest


@pytest.fixture
def museum_page(browser, viewer_server):  # noqa: ANN001, ANN201
    """Stock Mirador on the museum's page, on a manifest that links Loupe's outputs."""
    if not MIRADOR_UMD.is_file():
        pytest.skip("viewer_plugin/node_modules has no Mirador (scripts/install-npm-deps.sh)")
    site = MuseumSite({"/viewer.html": ("text/html", PAGE.encode()),
                       "/manifest.json": ("application/json", json.dumps(linked_manifest(viewer_server)).encode()),
                       "/mirador.min.js": ("text/javascript", MIRADOR_UMD.read_bytes())})
    context = browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error"
            and not m.text.startswith(MIRADOR_NOISE) else None)
    route_published(page, viewer_server)
    page.goto(site.url + "/viewer.html")
    yield page
    context.close()
    site.close()
    assert not problems, "\n".join(problems)


# How much of a box Mirador's drawing canvases (annotations) cover in a colour: of the
# columns of a band along its top edge (``edge``: a stroke drawn there), or of the pixels
# inside it (``inside``: a fill). Boxes in canvas units, which are Mirador's viewport units.
COVERAGE = """([windowId, box, where, kind]) => {
  const ref = Mirador.OSDReferences.get(windowId);  // none until the window's viewer is mounted
  const viewer = ref && ref.current;
  if (!viewer || !viewer.viewport) return 0;
  const view = viewer.viewport.getBounds(true);
  const size = viewer.viewport.getContainerSize();
  const pixel = (px, py) => ({x: (px - view.x) * size.x / view.width, y: (py - view.y) * size.y / view.height});
  const [x, y, w, h] = box;
  const a = pixel(x, y);
  const b = pixel(x + w, y + h);
  const inset = Math.max(3, Math.round((b.x - a.x) / 8));
  const x0 = Math.round(a.x) + inset;
  const width = Math.max(1, Math.round(b.x) - inset - x0);
  const [y0, height] = where === 'edge' ? [Math.round(a.y) - 3, 7]
    : [Math.round(a.y) + inset, Math.max(1, Math.round(b.y) - 2 * inset - Math.round(a.y))];
  const wanted = kind === 'blue'  // Mirador's annotation stroke, #00BFFF
    ? (r, g, bl, al) => al > 100 && r < 90 && g > 140 && g < 235 && bl > 200
    : (r, g, bl, al) => al > 30 && r > 200 && g > 200 && bl < 90;  // its search highlight, translucent #FFFF00
  let best = 0;
  for (const canvas of document.querySelectorAll('.openseadragon-canvas canvas')) {
    const context = canvas.getContext('2d');
    if (!context) continue;
    const d = context.getImageData(x0, y0, width, height).data;
    const columns = new Set();
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (wanted(d[i], d[i + 1], d[i + 2], d[i + 3])) { n++; columns.add((i / 4) % width); }
    }
    best = Math.max(best, where === 'edge' ? columns.size / width : n / (width * height));
  }
  return best;
}"""


def loupe_page(page, canvas: str) -> list[dict]:  # noqa: ANN001
    """The items of Loupe's annotation page as Mirador received them (empty until then)."""
    return page.evaluate("""(canvas) => {
      const pages = museumViewer.store.getState().annotations[canvas] || {};
      const loupe = Object.values(pages).find((p) => p.id.includes('/iiif/annotations/') && p.json);
      return loupe ? loupe.json.items : [];
    }""", canvas)


def box_of(server, label: str) -> tuple[int, int, int, int]:  # noqa: ANN001
    return next(box for s in SUGGESTIONS.values() for lab, box, _ in s if lab == label)


def wait_drawn(page, box, where: str, kind: str, share: float) -> None:  # noqa: ANN001
    page.wait_for_function(f"(args) => ({COVERAGE})(args) >= {share}", arg=[WINDOW, list(box), where, kind])


def test_stock_mirador_draws_loupes_machine_annotations(museum_page, viewer_server, screenshot_dir):
    page = museum_page
    page.wait_for_function("(c) => { const s = museumViewer.store.getState().annotations[c] || {};"
                           " return Object.values(s).some((p) => p.id.includes('/iiif/annotations/') && p.json); }",
                           arg=viewer_server.canvas)
    items = loupe_page(page, viewer_server.canvas)
    assert {i["body"]["value"] for i in items} == {label for s in SUGGESTIONS.values() for label, _, _ in s}
    assert all(i["loupe:review"] == "proposed" and i["creator"]["type"] == "Software" for i in items)
    boxed = [i for i in items if "selector" in i["target"]]
    assert all(re.fullmatch(r"xywh=\d+,\d+,\d+,\d+", i["target"]["selector"]["value"]) for i in boxed)
    for label in ("lily", "book"):  # machine boxes away from the curators' regions
        wait_drawn(page, box_of(viewer_server, label), "edge", "blue", 0.6)
    page.screenshot(path=str(screenshot_dir / "stock-mirador-machine-annotations.png"))


def search_in_mirador(page, words: str) -> None:  # noqa: ANN001
    field = page.get_by_role("combobox", name="search terms")
    field.fill(words)
    field.press("Enter")


def test_stock_mirador_searches_loupes_content_search_1(museum_page, viewer_server, screenshot_dir):
    page = museum_page
    page.click("button[aria-label='Toggle sidebar']")
    page.click("[role=tab][aria-label='Search']")
    panel = page.locator("aside", has=page.get_by_role("combobox", name="search terms"))

    with page.expect_response(lambda r: "/iiif/search/1/manifest/" in r.url) as answer:
        search_in_mirador(page, "gabriel")  # a word of a curator's region
    assert answer.value.status == 200
    hit = panel.get_by_text("Archangel Gabriel (left part)")  # before + match + after
    hit.wait_for()
    wait_drawn(page, (0, 100, 776, 591), "inside", "yellow", 0.5)  # the hit highlighted on the canvas
    page.screenshot(path=str(screenshot_dir / "stock-mirador-search-curator.png"))

    search_in_mirador(page, "lily")  # a machine tag: the whole text is the match
    lily = panel.get_by_text("lily", exact=True)
    lily.click()  # Mirador keeps the previous selection until a hit is chosen
    page.wait_for_function("(w) => Object.values(museumViewer.store.getState().searches[w]).some((s) => s.query === 'lily'"
                           " && s.selectedContentSearchAnnotationIds.some((id) => id.includes('#region-')))", arg=WINDOW)
    wait_drawn(page, box_of(viewer_server, "lily"), "inside", "yellow", 0.5)
    assert panel.get_by_role("button", name=re.compile("more", re.I)).count() == 0  # before/after given
    assert page.get_by_text("An error occurred").count() == 0  # Mirador's error banner
    page.screenshot(path=str(screenshot_dir / "stock-mirador-search-machine.png"))
