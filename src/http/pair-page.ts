/**
 * `/pair/<account>`: the current QR as an image while the account is pairing, and what
 * to do with it. The page reloads itself every few seconds: WhatsApp rotates the QR
 * about every 20 s, and the page then shows the next one, or "paired".
 */
import QRCode from 'qrcode';
import { isOnline } from '../../machines/index.js';
import type { AccountState } from '../contract/index.js';
import { ICON_LINK } from './icon.js';

/** Often enough to show a rotated QR well before it expires (~20 s). */
export const PAIR_PAGE_REFRESH_S = 3;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export async function pairPage(account: string, state: AccountState | null, qr: string | null): Promise<string> {
  let body: string;
  if (qr) {
    const img = await QRCode.toDataURL(qr, { margin: 2, scale: 6, errorCorrectionLevel: 'L' });
    body = `<p>On the phone: WhatsApp → Settings → Linked devices → Link a device, and scan:</p>
<img id="qr" alt="WhatsApp pairing QR for ${esc(account)}" src="${img}">
<p class="hint">The code changes every ~20 s; this page follows it.</p>`;
  } else if (isOnline(state)) {
    body = `<p id="status">Account <b>${esc(account)}</b> is paired and connected (${esc(state)}).</p>`;
  } else {
    body = `<p id="status">No QR to show: account <b>${esc(account)}</b> is <b>${esc(state ?? 'unknown')}</b>, not pairing.
Start pairing with the <code>pair</code> command (docs/subjects.md); the QR appears here.</p>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${PAIR_PAGE_REFRESH_S}">
<title>Pair ${esc(account)} · wa-connd</title>
${ICON_LINK}
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;color:#1d2330}img{image-rendering:pixelated;width:20rem;height:20rem}.hint{color:#667;font-size:.9rem}</style>
</head><body><h1>Pair ${esc(account)}</h1>
${body}
</body></html>`;
}
