/**
 * Loupe's machine annotations on the canvases on screen: show or hide them, by confidence,
 * model and process (apart from the institution's own annotations, which stay); a legend of
 * how each kind is drawn; and, for a curator with a key, accept, reject or correct each one.
 */
import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import Slider from '@mui/material/Slider';
import Stack from '@mui/material/Stack';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import {
  KINDS, describeAnnotation, facetValues, isShown,
} from '../annotations.js';

function Swatch({ kind }) {
  const style = KINDS[kind];
  return (
    <span
      aria-hidden
      style={{
        background: style.fill === 'none' ? 'transparent' : `${style.fill}33`,
        border: `${Math.min(style.width, 3)}px ${style.dash ? 'dashed' : 'solid'} ${style.stroke}`,
        display: 'inline-block', height: 12, marginRight: 6, verticalAlign: 'middle', width: 18,
      }}
    />
  );
}

function Legend() {
  return (
    <Stack spacing={0.25} data-loupe="legend">
      {['proposed', 'accepted', 'human'].map((kind) => (
        <Typography key={kind} variant="caption"><Swatch kind={kind} />{KINDS[kind].label}</Typography>
      ))}
    </Stack>
  );
}

function FacetChecks({ field, hidden, label, onChange, values }) {
  if (values.length < 1) return null;
  const toggle = (value, shown) => onChange(shown ? hidden.filter((v) => v !== value) : [...hidden, value]);
  return (
    <fieldset style={{ border: 0, margin: 0, padding: 0 }} data-loupe={`facet-${field}`}>
      <Typography component="legend" variant="caption" color="text.secondary">{label}</Typography>
      {values.map((value) => (
        <FormControlLabel
          key={value}
          sx={{ display: 'flex' }}
          control={<Checkbox size="small" checked={!hidden.includes(value)} onChange={(e) => toggle(value, e.target.checked)} />}
          label={<Typography variant="body2">{value}</Typography>}
        />
      ))}
    </fieldset>
  );
}

function CuratorKey({ apiKey, onKey }) {
  const [draft, setDraft] = useState('');
  if (apiKey) {
    return (
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
        <Typography variant="body2" data-loupe="curator-mode">Curator mode: you can accept and reject.</Typography>
        <Button size="small" onClick={() => onKey(null)}>Forget key</Button>
      </Stack>
    );
  }
  const submit = (event) => {
    event.preventDefault();
    if (draft.trim()) onKey(draft.trim());
  };
  return (
    <form onSubmit={submit} data-loupe="key-form">
      <Stack direction="row" spacing={1}>
        <TextField
          label="Curator key (to review)"
          type="password"
          size="small"
          fullWidth
          autoComplete="off"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          slotProps={{ htmlInput: { 'data-loupe': 'api-key' } }}
        />
        <Button size="small" variant="outlined" type="submit">Use</Button>
      </Stack>
    </form>
  );
}

function Correction({ correction, onAccept, onCancel, onChange, onRedraw }) {
  return (
    <Stack spacing={1} sx={{ pl: 1 }} data-loupe="correction">
      <TextField
        label="Label"
        size="small"
        value={correction.label}
        onChange={(event) => onChange({ label: event.target.value })}
        slotProps={{ htmlInput: { 'data-loupe': 'correction-label', maxLength: 200 } }}
      />
      <Typography variant="caption">
        {correction.xywh ? `Box ${correction.xywh.map(Math.round).join(', ')}` : 'Whole image'}
      </Typography>
      <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap' }}>
        <Button size="small" onClick={onRedraw}>Redraw box</Button>
        <Button size="small" variant="contained" data-loupe="accept-corrected" onClick={onAccept}>Accept corrected</Button>
        <Button size="small" onClick={onCancel}>Cancel</Button>
      </Stack>
    </Stack>
  );
}

function AnnotationItem({
  apiKey, correction, facts, onCorrect, onFocus, onReview, review,
}) {
  const saving = review && review.status === 'saving';
  const correcting = correction && correction.annotationId === facts.id;
  return (
    <li data-loupe="machine-annotation" data-id={facts.id} data-kind={facts.kind} style={{ listStyle: 'none', padding: '4px 0' }}>
      <button
        type="button"
        onClick={() => onFocus(facts)}
        disabled={!facts.box}
        title={facts.box ? 'Show it on the image' : 'About the whole image'}
        style={{
          background: 'none', border: 0, color: 'inherit', cursor: facts.box ? 'pointer' : 'default', font: 'inherit',
          padding: 0, textAlign: 'left', width: '100%',
        }}
      >
        <Typography variant="body2" component="span"><Swatch kind={facts.kind} />{facts.label || '(no label)'}</Typography>
        <Typography variant="caption" color="text.secondary" component="span" sx={{ display: 'block' }}>
          {`${facts.confidence === null ? 'confidence unknown' : `confidence ${facts.confidence.toFixed(2)}`} · ${facts.model}${facts.box ? '' : ' · whole image'}`}
        </Typography>
      </button>
      {apiKey && facts.kind === 'proposed' && !correcting && (
        <Stack direction="row" spacing={1}>
          <Button size="small" color="success" disabled={saving} data-loupe="accept" onClick={() => onReview(facts, 'accepted')}>Accept</Button>
          <Button size="small" color="error" disabled={saving} data-loupe="reject" onClick={() => onReview(facts, 'rejected')}>Reject</Button>
          <Button size="small" disabled={saving} data-loupe="correct" onClick={() => onCorrect(facts)}>Correct…</Button>
        </Stack>
      )}
      {correcting && correction.element}
      {review && review.status === 'error' && <Alert severity="error" role="alert" data-loupe="review-error">{review.error}</Alert>}
    </li>
  );
}

export function MachineSection({
  apiKey, correction, filter, onCorrection, onFilter, onFocus, onKey, onReview, pages, reviews, decided,
}) {
  const loaded = pages.filter((p) => p.status === 'ready');
  const described = loaded.flatMap((p) => (p.page.items || []).map((a) => describeAnnotation(a, decided)))
    .filter((f) => f.kind !== 'rejected');
  const machine = described.filter((f) => f.kind !== 'human');
  const shown = machine.filter((f) => isShown(f, filter));
  const problems = pages.filter((p) => p.status === 'error');
  const missing = pages.length > 0 && pages.every((p) => p.status === 'missing');
  const correctionElement = correction && (
    <Correction
      correction={correction}
      onChange={(patch) => onCorrection.update(patch)}
      onCancel={() => onCorrection.cancel()}
      onRedraw={() => onCorrection.redraw()}
      onAccept={() => onCorrection.accept(machine.find((f) => f.id === correction.annotationId))}
    />
  );
  return (
    <Stack spacing={1}>
      <FormControlLabel
        control={(
          <Switch
            checked={filter.visible}
            onChange={(event) => onFilter({ visible: event.target.checked })}
            slotProps={{ input: { 'data-loupe': 'machine-toggle' } }}
          />
        )}
        label={<Typography variant="body2">Show machine annotations</Typography>}
      />
      <Typography variant="caption" id="loupe-min-confidence">
        {`Confidence at least ${filter.minConfidence.toFixed(2)}`}
      </Typography>
      <Slider
        size="small"
        min={0}
        max={1}
        step={0.01}
        shiftStep={0.1}
        value={filter.minConfidence}
        disabled={!filter.visible}
        onChange={(event, value) => onFilter({ minConfidence: value })}
        aria-labelledby="loupe-min-confidence"
        slotProps={{ input: { 'data-loupe': 'confidence' } }}
      />
      <FacetChecks field="model" label="Models" values={facetValues(machine, 'model')} hidden={filter.hiddenModels}
        onChange={(hiddenModels) => onFilter({ hiddenModels })} />
      <FacetChecks field="source" label="Made by" values={facetValues(machine, 'source')} hidden={filter.hiddenSources}
        onChange={(hiddenSources) => onFilter({ hiddenSources })} />
      <Legend />
      {problems.map((p) => <Alert key={p.canvasId} severity="warning">{`Machine annotations could not be loaded: ${p.error}`}</Alert>)}
      {missing && <Typography variant="body2">Loupe has not harvested this image, so it has no suggestions for it.</Typography>}
      <Typography variant="body2" data-loupe="machine-count">
        {`${shown.length} of ${machine.length} machine annotation${machine.length === 1 ? '' : 's'} shown`}
      </Typography>
      {shown.length > 0 && (
        <ul style={{ margin: 0, padding: 0 }} data-loupe="machine-list">
          {shown.map((facts) => (
            <AnnotationItem
              key={facts.id}
              facts={facts}
              apiKey={apiKey}
              review={reviews[facts.id]}
              correction={correction && { ...correction, element: correctionElement }}
              onReview={onReview}
              onCorrect={(f) => onCorrection.start(f)}
              onFocus={onFocus}
            />
          ))}
        </ul>
      )}
      <CuratorKey apiKey={apiKey} onKey={onKey} />
    </Stack>
  );
}
