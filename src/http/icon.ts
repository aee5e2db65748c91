/**
 * The pages' icon, inline as a data: URI (the pages' CSP allows `img-src data:`), so a
 * browser fetches nothing for it; `/favicon.ico` itself answers 204 for whatever asks
 * anyway (a browser showing `/metrics`).
 */
const SVG = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='7' fill='#1d2330'/><circle cx='16' cy='16' r='8' fill='none' stroke='#66bb6a' stroke-width='3.5'/><circle cx='16' cy='16' r='3' fill='#ffd54f'/></svg>`;

export const ICON_LINK = `<link rel="icon" href="data:image/svg+xml,${encodeURIComponent(SVG)}">`;

/** Browsers ask for the icon again at most this often. */
export const FAVICON_MAX_AGE_S = 86_400;
