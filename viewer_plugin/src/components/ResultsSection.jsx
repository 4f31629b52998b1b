/**
 * Search by words, and the results of the window's last search: thumbnails, scores and
 * filters; a click opens the result's canvas at its region (through its content state).
 */
import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import LinearProgress from '@mui/material/LinearProgress';
import MenuItem from '@mui/material/MenuItem';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';

const KIND_OPTIONS = [['all', 'Details and whole images'], ['region', 'Details only'], ['image', 'Whole images only']];
const DESCRIBE = {
  composed: (q) => `similar to the region, changed by “${q.text}”`,
  region: () => 'similar to the region',
  text: (q) => `for “${q.text}”`,
};

/** The results the filters let through (the server filtered kind and one per canvas). */
export function visibleResults(search, options) {
  const results = (search.response && search.response.results) || [];
  const own = search.query && search.query.selection;
  if (!options.excludeSameCanvas || !own) return results;
  return results.filter((r) => !(r.canvas && r.canvas.id === own.canvasId));
}

function ResultItem({ onOpen, result }) {
  const title = result.label || (result.manifest && result.manifest.label) || 'Untitled';
  const artwork = result.manifest && result.manifest.label && result.manifest.label !== title ? result.manifest.label : null;
  return (
    <li style={{ listStyle: 'none', margin: 0, padding: 0 }}>
      <button
        type="button"
        data-loupe="result"
        data-canvas={result.canvas && result.canvas.id}
        data-xywh={result.xywh ? result.xywh.map(Math.round).join(',') : ''}
        onClick={() => onOpen(result)}
        title={`Open ${title}${result.xywh ? ' at this detail' : ''}`}
        style={{
          alignItems: 'center', background: 'none', border: 0, borderBottom: '1px solid rgba(127,127,127,0.25)',
          color: 'inherit', cursor: 'pointer', display: 'flex', font: 'inherit', gap: 8, padding: '6px 0',
          textAlign: 'left', width: '100%',
        }}
      >
        <span style={{
          alignItems: 'center', background: 'rgba(127,127,127,0.15)', display: 'flex', flex: '0 0 72px', height: 72,
          justifyContent: 'center', overflow: 'hidden',
        }}
        >
          {result.thumbnail && (
            <img src={result.thumbnail} alt={title} loading="lazy" style={{ maxHeight: 72, maxWidth: 72 }} />
          )}
        </span>
        <span style={{ minWidth: 0 }}>
          <Typography variant="body2" component="span" sx={{ display: 'block', fontWeight: 500 }}>{title}</Typography>
          {artwork && <Typography variant="caption" component="span" sx={{ display: 'block' }}>{artwork}</Typography>}
          <Typography variant="caption" color="text.secondary" component="span" sx={{ display: 'block' }}>
            <span data-loupe="score">{`score ${result.score.toFixed(3)}`}</span>
            {` · ${result.kind === 'image' ? 'whole image' : 'detail'}`}
          </Typography>
        </span>
      </button>
    </li>
  );
}

/** Search by words (the panel's first field). */
export function TextSearchForm({ onSearch }) {
  const [words, setWords] = useState('');
  const submit = (event) => {
    event.preventDefault();
    onSearch({ text: words, type: 'text' });
  };
  return (
    <form onSubmit={submit} data-loupe="text-form" role="search">
      <Stack direction="row" spacing={1}>
        <TextField
          label="Search by words"
          value={words}
          size="small"
          fullWidth
          onChange={(event) => setWords(event.target.value)}
          slotProps={{ htmlInput: { 'data-loupe': 'text-query', enterKeyHint: 'search', maxLength: 1000 } }}
        />
        <Button size="small" variant="outlined" type="submit" sx={{ flexShrink: 0 }}>Search</Button>
      </Stack>
    </form>
  );
}

export function ResultsSection({
  onOpen, onOptions, options, search,
}) {
  const results = visibleResults(search, options);
  const describe = search.query && DESCRIBE[search.query.type] ? DESCRIBE[search.query.type](search.query) : '';
  const hidden = ((search.response && search.response.results) || []).length - results.length;
  return (
    <Stack spacing={1}>
      {search.status === 'idle' && (
        <Typography variant="body2" color="text.secondary">Results of a search by region or by words appear here.</Typography>
      )}
      {search.status === 'loading' && <LinearProgress aria-label="Searching" />}
      {search.status === 'error' && <Alert severity="error" role="alert" data-loupe="search-error">{search.error}</Alert>}
      {search.status === 'done' && (
        <Typography variant="body2" data-loupe="status" aria-live="polite">
          {`${results.length} result${results.length === 1 ? '' : 's'} ${describe}`}
          {hidden > 0 ? ` (${hidden} on this image hidden)` : ''}
        </Typography>
      )}
      <TextField
        select
        size="small"
        label="Show"
        value={options.kind}
        onChange={(event) => onOptions({ kind: event.target.value })}
        slotProps={{ htmlInput: { 'data-loupe': 'filter-kind' } }}
      >
        {KIND_OPTIONS.map(([value, label]) => <MenuItem key={value} value={value}>{label}</MenuItem>)}
      </TextField>
      <Stack direction="row" useFlexGap sx={{ flexWrap: 'wrap', mt: '0 !important' }}>
        <FormControlLabel
          control={<Checkbox size="small" checked={options.onePerCanvas} onChange={(e) => onOptions({ onePerCanvas: e.target.checked })} />}
          label={<Typography variant="body2">One per artwork</Typography>}
        />
        <FormControlLabel
          control={(
            <Checkbox
              size="small"
              checked={options.excludeSameCanvas}
              onChange={(e) => onOptions({ excludeSameCanvas: e.target.checked }, false)}
              slotProps={{ input: { 'data-loupe': 'exclude-same' } }}
            />
          )}
          label={<Typography variant="body2">Hide this image</Typography>}
        />
      </Stack>
      {results.length > 0 && (
        <ul data-loupe="results" style={{ margin: 0, padding: 0 }}>
          {results.map((r) => <ResultItem key={r.id} result={r} onOpen={onOpen} />)}
        </ul>
      )}
    </Stack>
  );
}
