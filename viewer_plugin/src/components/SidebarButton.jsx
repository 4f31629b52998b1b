/**
 * The plugin's tab in a window's sidebar (target ``WindowSideBarButtons``, mode ``add``).
 * Mirador renders the component as the tab's icon and opens the companion window named by
 * its static ``value`` when the tab is chosen.
 */
import { PANEL_KEY } from '../actions.js';
import { LoupeIcon } from './icons.jsx';

export function SidebarButton() {
  return <LoupeIcon data-loupe="sidebar-icon" />;
}
SidebarButton.value = PANEL_KEY;
