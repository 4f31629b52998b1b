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
  try {
    window.loupeViewer = window.LoupeMirador.open({
      catalog: JSON.parse(data.catalog || '[]'),
      contentState: data.contentState || null,
      endpoint: data.endpoint,
      id: 'viewer',
      manifest: data.manifest || null,
      viewerUrl: window.location.origin + window.location.pathname,
    });
  } catch (e) {
    show(`The viewer cannot open this: ${e.message}`);
  }
}());
