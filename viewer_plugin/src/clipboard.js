/**
 * Copy text to the clipboard: the asynchronous Clipboard API where the page may use it, else
 * the older selection-and-copy command. Resolves to true when the text was copied.
 */
export async function copyText(text) {
  try {
    if (globalThis.navigator && navigator.clipboard && globalThis.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the older way (permission refused, document not focused)
  }
  if (typeof document === 'undefined') return false;
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}
