/** The plugin's few icons, drawn here so that the package needs no icon library of its own. */
import SvgIcon from '@mui/material/SvgIcon';

/** A magnifying glass over a dashed frame: Loupe's panel and region tool. */
export function LoupeIcon(props) {
  return (
    <SvgIcon {...props}>
      <path d="M3 3h4v2H5v2H3zM3 11h2v2H3zM11 3h2v2h-2zM3 17v4h4v-2H5v-2z" />
      <path d="M15.5 9a5.5 5.5 0 0 1 4.4 8.8l2.8 2.8-1.4 1.4-2.8-2.8A5.5 5.5 0 1 1 15.5 9zm0 2a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7z" />
    </SvgIcon>
  );
}

/** A dashed box with a corner handle: "select a region". */
export function SelectRegionIcon(props) {
  return (
    <SvgIcon {...props}>
      <path d="M3 3h3v2H5v1H3zM8 3h3v2H8zM13 3h3v2h-3zM18 3h3v3h-2V5h-1zM3 8h2v3H3zM19 8h2v3h-2zM3 13h2v3H3zM3 18h2v1h1v2H3zM8 19h3v2H8z" />
      <path d="M13 13l8 3-3.2 1.3L21 20.5 19.5 22l-3.2-3.2L15 22z" />
    </SvgIcon>
  );
}
