"""Helpers of the viewer's browser tests: open /viewer, wait until Mirador shows the canvas,
read Mirador's state and the OpenSeadragon view, count the pixels drawn in a colour, draw a
box with the mouse."""

from __future__ import annotations

import re
from urllib.parse import quote

WINDOW = "loupe-window"  # the window id the standalone build gives the viewer page's window
PROPOSED = (255, 152, 0)  # annotations.KINDS in viewer_plugin/src: machine suggestion
ACCEPTED = (46, 125, 50)  # accepted by a curator
HUMAN = (0, 191, 255)  # Mirador's own colour for people's annotations

COUNT_COLOUR = """([r, g, b]) => {
  let n = 0;
  for (const canvas of document.querySelectorAll('.openseadragon-canvas canvas')) {
    const context = canvas.getContext('2d');
    if (!context) continue;  // OpenSeadragon's WebGL tiles: not annotations
    const d = context.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 200 && Math.abs(d[i] - r) < 24 && Math.abs(d[i + 1] - g) < 24 && Math.abs(d[i + 2] - b) < 24) n++;
    }
  }
  return n;
}"""

VIEW = """(windowId) => {
  const viewer = LoupeMirador.OSDReferences.get(windowId).current;
  const b = viewer.viewport.getBounds(false);  // where the view is going (after any animation)
  return {x: b.x, y: b.y, width: b.width, height: b.height};
}"""


def viewer_path(manifest: str | None = None, content_state: str | None = None) -> str:
    if content_state:
        return f"/viewer?iiif-content={quote(content_state, safe='')}"
    return f"/viewer?manifest={quote(manifest, safe='')}" if manifest else "/viewer"


def route_published(page, server) -> None:  # noqa: ANN001
    """Send the browser's requests for the published demo to the test server."""
    origin = server.published_origin
    page.route(re.compile("^" + re.escape(origin) + "/"),
               lambda route: route.continue_(url=server.url + route.request.url[len(origin):]))


def wait_for_canvas(page, canvas: str) -> None:  # noqa: ANN001
    """Until the window shows ``canvas``, its image is drawn and Loupe's page for it is read."""
    page.wait_for_function("""([windowId, canvas]) => {
      const state = window.loupeViewer && loupeViewer.store.getState();
      const ref = window.LoupeMirador && LoupeMirador.OSDReferences.get(windowId);
      const viewer = ref && ref.current;
      const page = state && state.loupe.pages[canvas];
      return state.windows[windowId] && state.windows[windowId].canvasId === canvas && viewer
        && viewer.world.getItemCount() > 0 && viewer.world.getItemAt(0).getFullyLoaded()
        && page && page.status === 'ready';
    }""", arg=[WINDOW, canvas])


def count_colour(page, rgb: tuple[int, int, int]) -> int:  # noqa: ANN001
    return page.evaluate(COUNT_COLOUR, list(rgb))


def wait_colour(page, rgb: tuple[int, int, int], *, present: bool) -> None:  # noqa: ANN001
    test = f"({COUNT_COLOUR})({list(rgb)}) {'>' if present else '==='} 0"
    page.wait_for_function(test)


def view(page) -> dict:  # noqa: ANN001
    return page.evaluate(VIEW, WINDOW)


def mirador_items(page, canvas: str, page_id_part: str = "/iiif/annotations/") -> list[dict]:  # noqa: ANN001
    """The annotations Mirador holds for ``canvas`` from Loupe's page."""
    return page.evaluate("""([canvas, part]) => {
      const pages = loupeViewer.store.getState().annotations[canvas] || {};
      const loupe = Object.values(pages).find((p) => p.id.includes(part));
      return loupe ? loupe.json.items : [];
    }""", [canvas, page_id_part])


def drag_box(page, dx: int = 90, dy: int = 60) -> dict:  # noqa: ANN001
    """Press "Select a region" and drag a box around the middle of the viewer; returns the
    box dragged, in page pixels."""
    page.click("[data-loupe=select-region]")
    layer = page.wait_for_selector("[data-loupe=region-tool]").bounding_box()
    cx, cy = layer["x"] + layer["width"] / 2, layer["y"] + layer["height"] / 2
    page.mouse.move(cx - dx, cy - dy)
    page.mouse.down()
    page.mouse.move(cx, cy, steps=4)
    page.mouse.move(cx + dx, cy + dy, steps=4)
    page.mouse.up()
    return {"x": cx - dx, "y": cy - dy, "width": 2 * dx, "height": 2 * dy}
