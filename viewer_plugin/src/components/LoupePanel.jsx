/**
 * The plugin's side panel (a Mirador companion window): the selected region, search results,
 * and the machine annotations of the canvases on screen.
 */
import { useEffect } from 'react';
import { ConnectedCompanionWindow as CompanionWindow } from 'mirador';
import Divider from '@mui/material/Divider';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { MachineSection } from './MachineSection.jsx';
import { RegionSection } from './RegionSection.jsx';
import { ResultsSection, TextSearchForm } from './ResultsSection.jsx';

export const API_KEY_STORAGE = 'loupe-api-key';

function storedKey() {
  try {
    return globalThis.sessionStorage ? sessionStorage.getItem(API_KEY_STORAGE) : null;
  } catch {
    return null; // storage refused (privacy settings): the key lasts as long as the page
  }
}

function storeKey(key) {
  try {
    if (key) sessionStorage.setItem(API_KEY_STORAGE, key);
    else sessionStorage.removeItem(API_KEY_STORAGE);
  } catch {
    // see storedKey
  }
}

/** The panel's content. Mirador's CompanionWindow gives its children a ``parentactions``
 * prop; this component takes it so that it does not reach the DOM. */
function PanelBody({ children, parentactions = null }) { // eslint-disable-line no-unused-vars
  return <Stack spacing={2} sx={{ p: 2 }} data-loupe="panel">{children}</Stack>;
}

function Heading({ children }) {
  return <Typography variant="subtitle2" component="h3" sx={{ fontWeight: 600 }}>{children}</Typography>;
}

export function LoupePanel({
  apiKey, clearSelection, correction, decided, endCorrection, endpoint, focusRegion, id, machineFilter,
  openContentState, own, pages, review, reviews, search, selectionCanvas, setApiKey, setMachineFilter,
  setSearchOptions, setTool, startCorrection, updateCorrection, viewerUrl, windowId,
}) {
  useEffect(() => {
    if (!apiKey && storedKey()) setApiKey(storedKey());
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const openResult = (result) => {
    const state = result.content_state
      || { target: { id: `${result.canvas.id}${result.xywh ? `#xywh=${result.xywh.map(Math.round).join(',')}` : ''}`, partOf: [{ id: result.manifest.id, type: 'Manifest' }], type: 'Canvas' } };
    openContentState(windowId, state);
  };
  const onKey = (key) => {
    storeKey(key);
    setApiKey(key);
  };
  const onOptions = (patch, rerun = true) => {
    setSearchOptions(windowId, patch);
    if (rerun && own.search.query) search(windowId);
  };
  const onCorrection = {
    accept: (facts) => {
      const changes = {};
      if (correction.label && correction.label !== facts.label) changes.label = correction.label;
      if (correction.xywh && (!facts.box || correction.xywh.join(',') !== facts.box.join(','))) changes.xywh = correction.xywh;
      review(facts, 'accepted', changes);
    },
    cancel: () => {
      endCorrection();
      if (own.tool === 'correct') setTool(windowId, null);
    },
    redraw: () => setTool(windowId, 'correct'),
    start: (facts) => startCorrection({
      annotationId: facts.id, canvasId: facts.canvasId, label: facts.label, xywh: facts.box,
    }),
    update: (patch) => updateCorrection(patch),
  };

  return (
    <CompanionWindow title="Loupe" id={id} windowId={windowId}>
      <PanelBody>
        {!endpoint && (
          <Typography color="error" role="alert">
            No Loupe service is configured: set loupe.endpoint in Mirador&apos;s config.
          </Typography>
        )}
        <TextSearchForm onSearch={(request) => search(windowId, request)} />
        <section aria-label="Selected region">
          <Heading>Region</Heading>
          <RegionSection
            canvas={selectionCanvas}
            selection={own.selection}
            tool={own.tool}
            viewerUrl={viewerUrl}
            onClear={() => clearSelection(windowId)}
            onSearch={(request) => search(windowId, request)}
            onStartTool={() => setTool(windowId, 'search')}
          />
        </section>
        <Divider />
        <section aria-label="Search results">
          <Heading>Results</Heading>
          <ResultsSection search={own.search} options={own.searchOptions} onOpen={openResult} onOptions={onOptions} />
        </section>
        <Divider />
        <section aria-label="Machine annotations">
          <Heading>Machine annotations</Heading>
          <MachineSection
            apiKey={apiKey}
            correction={correction}
            decided={decided}
            filter={machineFilter}
            pages={pages}
            reviews={reviews}
            onCorrection={onCorrection}
            onFilter={setMachineFilter}
            onFocus={(facts) => facts.box && focusRegion(windowId, facts.canvasId, facts.box)}
            onKey={onKey}
            onReview={(facts, decision) => review(facts, decision)}
          />
        </section>
      </PanelBody>
    </CompanionWindow>
  );
}

