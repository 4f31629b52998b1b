/**
 * The selected region: what it is, searching from it (alone, or changed by a sentence), and
 * copying it as a IIIF Image API URL or a content-state link that reopens it.
 */
import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Slider from '@mui/material/Slider';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { copyText } from '../clipboard.js';
import { contentStateLink, regionContentState, xywhText } from '../contentState.js';
import { regionImageUrl } from '../imageApi.js';
import { SelectRegionIcon } from './icons.jsx';

/** The two things a selection can be copied as; throws an Error saying why one is unavailable. */
function regionCopies(selection, canvas, viewerUrl) {
  return {
    image: () => {
      const found = regionImageUrl(canvas.__jsonld, { height: canvas.getHeight(), width: canvas.getWidth() },
        selection.xywh);
      const note = found.level === 0
        ? 'This image server publishes whole images only (level 0): it will not cut the region, but this is its address.'
        : null;
      return { note, text: found.url };
    },
    link: () => ({
      note: null,
      text: contentStateLink(viewerUrl, regionContentState(selection.manifestId, selection.canvasId, selection.xywh)),
    }),
  };
}

function CopyButtons({ copies }) {
  const [copied, setCopied] = useState(null);
  const copy = async (what) => {
    let result;
    try {
      result = copies[what]();
    } catch (e) {
      setCopied({ error: e.message, what });
      return;
    }
    const ok = await copyText(result.text);
    setCopied({ ...result, ok, what });
  };
  const label = { image: 'Image URL', link: 'Link to this region' };
  return (
    <>
      <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap' }}>
        <Button size="small" variant="outlined" data-loupe="copy-image" onClick={() => copy('image')}>Copy image URL</Button>
        <Button size="small" variant="outlined" data-loupe="copy-link" onClick={() => copy('link')}>Copy link</Button>
      </Stack>
      {copied && copied.error && <Alert severity="warning" data-loupe="copy-error">{copied.error}</Alert>}
      {copied && !copied.error && (
        <>
          <TextField
            label={`${label[copied.what]}${copied.ok ? ' (copied)' : ' (select and copy)'}`}
            value={copied.text}
            size="small"
            fullWidth
            slotProps={{ htmlInput: { 'data-loupe': 'copied', readOnly: true } }}
            onFocus={(event) => event.target.select()}
          />
          {copied.note && <Typography variant="caption" color="text.secondary">{copied.note}</Typography>}
        </>
      )}
    </>
  );
}

export function RegionSection({
  canvas, onClear, onSearch, onStartTool, selection, tool, viewerUrl,
}) {
  const [text, setText] = useState('');
  const [weight, setWeight] = useState(0.5);
  if (!selection) {
    return (
      <Stack spacing={1} data-loupe="no-selection">
        <Typography variant="body2">
          Draw a box around a detail of the image to find similar details across the collection.
        </Typography>
        <Button
          size="small"
          variant="contained"
          startIcon={<SelectRegionIcon />}
          onClick={onStartTool}
          disabled={tool === 'search'}
        >
          Select a region
        </Button>
      </Stack>
    );
  }
  const [x, y, w, h] = selection.xywh;
  const submitComposed = (event) => {
    event.preventDefault();
    onSearch({ text, textWeight: weight, type: 'composed' });
  };
  return (
    <Stack spacing={1} data-loupe="selection-details">
      <Typography variant="body2" data-loupe="selection-xywh" data-xywh={xywhText(selection.xywh)}>
        {`Region ${w} × ${h} at ${x}, ${y}`}
      </Typography>
      <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap' }}>
        <Button size="small" variant="contained" data-loupe="search-region" onClick={() => onSearch({ type: 'region' })}>
          Find similar
        </Button>
        <Button size="small" onClick={onStartTool}>Redraw</Button>
        <Button size="small" onClick={onClear}>Clear</Button>
      </Stack>
      {canvas && <CopyButtons copies={regionCopies(selection, canvas, viewerUrl)} />}
      <details data-loupe="composed">
        <summary style={{ cursor: 'pointer' }}>
          <Typography variant="body2" component="span">Change it with words…</Typography>
        </summary>
        <form onSubmit={submitComposed} data-loupe="composed-form">
        <Stack spacing={1} sx={{ pt: 1 }}>
          <TextField
            label="…but changed by (e.g. at night)"
            value={text}
            size="small"
            fullWidth
            onChange={(event) => setText(event.target.value)}
            slotProps={{ htmlInput: { 'data-loupe': 'composed-text', maxLength: 1000 } }}
          />
          <Typography variant="caption" id="loupe-text-weight">
            {`Weight of the words: ${weight.toFixed(2)}`}
          </Typography>
          <Slider
            size="small"
            min={0}
            max={1}
            step={0.05}
            shiftStep={0.25}
            value={weight}
            onChange={(event, value) => setWeight(value)}
            aria-labelledby="loupe-text-weight"
          />
          <Button size="small" variant="outlined" type="submit">Search region + words</Button>
        </Stack>
        </form>
      </details>
    </Stack>
  );
}
