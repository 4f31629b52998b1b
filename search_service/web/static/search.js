/* Loupe search page: talks to the JSON API of the same server; no framework, no CDN.
 *
 * Every search is kept as a function of the cursor, so "More results" asks the same
 * question again for the next page, whatever kind of search it was. */
"use strict";

(() => {
  const base = document.body.dataset.base || "";
  const pageSize = Number(document.body.dataset.pageSize) || 24;
  const $ = (id) => document.getElementById(id);
  const els = {
    form: $("search-form"), q: $("q"), upload: $("upload"), camera: $("camera"),
    kind: $("filter-kind"), collection: $("filter-collection"), one: $("filter-one"),
    error: $("error"), status: $("status"), gallery: $("gallery"), more: $("more"),
    selected: $("selected"), selectedImage: $("selected-image"), selectedCaption: $("selected-caption"),
    clear: $("clear-selection"), tags: $("tags"), tagsStatus: $("tags-status"),
    composed: $("composed-form"), composedText: $("composed-text"), composedDetails: $("composed-details"),
    weight: $("text-weight"), weightValue: $("text-weight-value"),
  };
  const KIND_NAMES = { image: "whole image", region: "annotated detail", view: "crop" };

  /* What is going on: the current search (a function of the cursor), its next cursor, the
   * starting image of similar/composed searches, and a counter that drops stale answers. */
  const state = {
    make: null, search: null, describe: "", cursor: null, count: 0, reference: null, generation: 0, objectUrl: null,
  };

  // --- talking to the API ----------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status, code) { super(message); this.status = status; this.code = code; }
  }

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(base + path, options);
    } catch (e) {
      throw new ApiError("The server cannot be reached. Check your connection and try again.", 0, "network");
    }
    let data = null;
    try { data = await response.json(); } catch (e) { /* not JSON: reported below */ }
    if (!response.ok) {
      const message = data && data.error && data.error.message
        ? data.error.message : `The server answered ${response.status} ${response.statusText}.`;
      throw new ApiError(message, response.status, data && data.error ? data.error.code : null);
    }
    if (data === null) throw new ApiError("The server sent an answer this page cannot read.", response.status, "bad_json");
    return data;
  }

  function filterValues() {
    const out = {};
    if (els.kind.value) out.kind = els.kind.value.split(",");
    if (els.collection.value) out.collection = [els.collection.value];
    return out;
  }

  function paging(cursor) {
    return { limit: pageSize, cursor, one_per_canvas: els.one.checked ? "true" : null };
  }

  function queryString(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === null || value === undefined || value === "") continue;
      (Array.isArray(value) ? value : [value]).forEach((v) => search.append(key, v));
    }
    return search.toString();
  }

  function formWith(file, fields) {
    const form = new FormData();
    form.append("image", file, file.name || "image");
    for (const [key, value] of Object.entries(fields)) {
      if (value === null || value === undefined || value === "") continue;
      (Array.isArray(value) ? value : [value]).forEach((v) => form.append(key, String(v)));
    }
    return form;
  }

  // --- the kinds of search ---------------------------------------------------------------

  function textSearch(q) {
    const filters = filterValues();
    return (cursor) => api("GET", "/api/search?" + queryString({ q, ...paging(cursor), ...filters }));
  }

  function similarSearch(result) {
    const filters = filterValues();
    return (cursor) => api("GET", `/api/similar/${encodeURIComponent(result.id)}?` +
      queryString({ ...paging(cursor), ...filters }));
  }

  function uploadSearch(file) {
    const filters = filterValues();
    return (cursor) => api("POST", "/api/search/image", formWith(file, { ...paging(cursor), ...filters }));
  }

  function composedSearch(reference, text, weight) {
    const filters = filterValues();
    if (reference.file) {
      return (cursor) => api("POST", "/api/search/composed",
        formWith(reference.file, { text, text_weight: weight, ...paging(cursor), ...filters }));
    }
    return (cursor) => api("POST", "/api/search/composed", {
      point_id: reference.result.id, text, text_weight: weight, limit: pageSize,
      ...(cursor ? { cursor } : {}), one_per_canvas: els.one.checked, filters,
    });
  }

  // --- running a search and showing its pages -------------------------------------------

  /* `make` builds the search from the filters as they are now, so a change of filter can
   * ask the same question again. */
  async function run(make, describe) {
    const generation = ++state.generation;
    const search = make();
    state.make = make;
    state.search = search;
    state.describe = describe;
    state.cursor = null;
    state.count = 0;
    clearError();
    els.gallery.replaceChildren();
    els.more.hidden = true;
    setBusy(true, "Searching…");
    try {
      const page = await search(null);
      if (generation !== state.generation) return;
      showPage(page);
    } catch (e) {
      if (generation !== state.generation) return;
      showError(e);
      els.status.textContent = "";
    } finally {
      if (generation === state.generation) setBusy(false);
    }
  }

  async function more() {
    if (!state.search || !state.cursor) return;
    const generation = state.generation;
    els.more.disabled = true;
    setBusy(true, "Loading more…");
    try {
      const page = await state.search(state.cursor);
      if (generation !== state.generation) return;
      showPage(page);
      const first = els.gallery.children[state.count - page.results.length];
      const button = first && first.querySelector("button");
      if (button) button.focus({ preventScroll: true });
    } catch (e) {
      if (generation === state.generation) showError(e);
    } finally {
      els.more.disabled = false;
      if (generation === state.generation) setBusy(false);
    }
  }

  function showPage(page) {
    const results = page.results || [];
    const fragment = document.createDocumentFragment();
    results.forEach((result) => fragment.appendChild(card(result)));
    els.gallery.appendChild(fragment);
    state.count += results.length;
    state.cursor = page.next_cursor || null;
    els.more.hidden = !state.cursor;
    els.status.textContent = state.count
      ? `${state.count} result${state.count === 1 ? "" : "s"} ${state.describe}${state.cursor ? " (more below)" : ""}.`
      : `Nothing found ${state.describe}. Try other words, or fewer filters.`;
  }

  function card(result) {
    const item = document.createElement("li");
    item.className = "result";
    item.dataset.id = result.id;
    const label = result.label || (result.manifest && result.manifest.label) || "Untitled";
    const kind = KIND_NAMES[result.kind] || result.kind || "";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb";
    button.setAttribute("aria-label", `${label}, ${kind}: select it and find similar images`);
    if (result.thumbnail) {
      const img = document.createElement("img");
      img.src = result.thumbnail;
      img.alt = `${label} (${kind})`;
      img.loading = "lazy";
      img.decoding = "async";
      img.addEventListener("error", () => { button.classList.add("broken"); img.remove(); }, { once: true });
      button.appendChild(img);
    } else {
      button.classList.add("broken");
    }
    button.addEventListener("click", () => selectResult(result, item));
    const caption = document.createElement("div");
    caption.className = "caption";
    const title = document.createElement("span");
    title.className = "label";
    title.textContent = label;
    title.title = label;
    const meta = document.createElement("span");
    meta.className = "meta";
    const view = result.kind === "view" && result.view ? ` (${result.view.replace(/^crop-/, "").replace(/-/g, " ")})` : "";
    meta.textContent = `${kind}${view} · ${formatScore(result.score)}`;
    caption.append(title, meta);
    item.append(button, caption);
    return item;
  }

  function formatScore(score) {
    return typeof score === "number" ? `score ${score.toFixed(3)}` : "";
  }

  // --- the starting image: a clicked result or an upload ---------------------------------

  function selectResult(result, item) {
    document.querySelectorAll(".result.is-selected").forEach((el) => el.classList.remove("is-selected"));
    if (item) item.classList.add("is-selected");
    const label = result.label || (result.manifest && result.manifest.label) || "Untitled";
    showSelected({ result }, result.thumbnail, label, `${label} (${KIND_NAMES[result.kind] || result.kind})`);
    const reference = { manifest: result.manifest.id, canvas: result.canvas.id };
    if (result.xywh && result.kind !== "image") reference.xywh = result.xywh;
    loadTags({ reference, top_k: 5 });
    run(() => similarSearch(result), `similar to “${label}”`);
  }

  function selectUpload(file) {
    if (!file) return;
    if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state.objectUrl = file.size ? URL.createObjectURL(file) : null;
    const name = file.name || "your photo";
    showSelected({ file }, state.objectUrl, `Your image: ${name}`, `The image you chose (${name})`);
    loadTags(formWith(file, { top_k: 5 }));
    run(() => uploadSearch(file), "for your image");
  }

  function showSelected(reference, src, caption, alt) {
    state.reference = reference;
    els.selected.hidden = false;
    if (src) {
      els.selectedImage.src = src;
      els.selectedImage.hidden = false;
    } else {
      els.selectedImage.removeAttribute("src");
      els.selectedImage.hidden = true;
    }
    els.selectedImage.alt = alt;
    els.selectedCaption.textContent = caption;
  }

  function clearSelection() {
    state.reference = null;
    els.selected.hidden = true;
    els.tags.replaceChildren();
    document.querySelectorAll(".result.is-selected").forEach((el) => el.classList.remove("is-selected"));
    if (state.objectUrl) { URL.revokeObjectURL(state.objectUrl); state.objectUrl = null; }
    els.q.focus();
  }

  async function loadTags(body) {
    const generation = state.generation + 1; // the search started right after this
    els.tags.replaceChildren();
    els.tagsStatus.textContent = "Finding tags…";
    try {
      const answer = await api("POST", "/api/tag", body);
      if (generation !== state.generation) return;
      const items = answer.labels.map(({ label, score }) => {
        const li = document.createElement("li");
        li.textContent = label;
        const s = document.createElement("span");
        s.className = "score";
        s.textContent = `${Math.round(score * 100)}%`;
        s.setAttribute("aria-label", `score ${Math.round(score * 100)} percent`);
        li.appendChild(s);
        return li;
      });
      els.tags.replaceChildren(...items);
      els.tagsStatus.textContent = items.length
        ? `From the “${answer.vocabulary.name}” vocabulary; a score is the label's share among its ${answer.vocabulary.size} labels.`
        : "No tags.";
    } catch (e) {
      if (generation === state.generation) els.tagsStatus.textContent = `No tags: ${e.message}`;
    }
  }

  // --- messages -------------------------------------------------------------------------

  function showError(error) {
    els.error.textContent = error && error.message ? error.message : String(error);
    els.error.hidden = false;
  }

  function clearError() {
    els.error.hidden = true;
    els.error.textContent = "";
  }

  function setBusy(busy, message) {
    els.gallery.setAttribute("aria-busy", busy ? "true" : "false");
    if (busy && message) els.status.textContent = message;
  }

  // --- wiring ---------------------------------------------------------------------------

  els.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = els.q.value.trim();
    if (!q) {
      showError(new Error("Type a few words to search for, or choose an image."));
      els.q.focus();
      return;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("q", q);
    window.history.replaceState(null, "", url);
    run(() => textSearch(q), `for “${q}”`);
  });

  for (const input of [els.upload, els.camera]) {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      selectUpload(file);
      input.value = ""; // choosing the same file again searches again
    });
  }

  els.composed.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = els.composedText.value.trim();
    if (!state.reference) return;
    if (!text) {
      showError(new Error("Say what should be different, for example “at night”."));
      els.composedText.focus();
      return;
    }
    const weight = Number(els.weight.value);
    const reference = state.reference;
    run(() => composedSearch(reference, text, weight), `like your starting image, changed by “${text}”`);
  });

  els.weight.addEventListener("input", () => { els.weightValue.textContent = Number(els.weight.value).toFixed(2); });
  els.clear.addEventListener("click", clearSelection);
  els.more.addEventListener("click", more);
  for (const select of [els.kind, els.collection, els.one]) {
    select.addEventListener("change", () => { if (state.make) run(state.make, state.describe); });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && document.activeElement === document.body) {
      event.preventDefault();
      els.q.focus();
    } else if (event.key === "Escape" && !els.selected.hidden) {
      clearSelection();
    }
  });

  // On a phone the change-it form starts folded, so the results stay in view below it.
  if (window.matchMedia("(max-width: 899px)").matches) els.composedDetails.open = false;

  const initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    els.q.value = initial;
    run(() => textSearch(initial), `for “${initial}”`);
  }
})();
