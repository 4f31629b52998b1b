/* Starts Mirador with Loupe's plugin from the settings the server put on #viewer. */
(function start() {
  const element = document.getElementById('viewer');
  const problem = document.getElementById('viewer-problem');
  const data = element.dataset;
  const show = (text) => {
    problem.textContent = text;
    problem.hidden = false;
  };
  if (!window.LoupeMirador) {
    show('The viewer script did not load; reload the page, or rebuild viewer_plugin/.');
    return;
  }
  // Wide screens open with Loupe's panel beside the image; phones with the image alone, and
  // the panel opens below it when a region is drawn.
  const wide = window.matchMedia('(min-width: 900px)').matches;
  const miradorConfig = {
    window: {
      defaultSideBarPanel: 'loupe',
      defaultSidebarPanelHeight: 360,
      defaultSidebarPanelWidth: wide ? 340 : 280,
      sideBarOpen: wide,
      sideBarPanel: 'loupe',
    },
  };
  try {
    window.loupeViewer = window.LoupeMirador.open({
      catalog: JSON.parse(data.catalog || '[]'),
      contentState: data.contentState || null,
      endpoint: data.endpoint,
      id: 'viewer',
      manifest: data.manifest || null,
      miradorConfig,
      panelPosition: wide ? 'left' : 'far-bottom',
      viewerUrl: window.location.origin + window.location.pathname,
    });
  } catch (e) {
    show(`The viewer cannot open this: ${e.message}`);
  }
}());
