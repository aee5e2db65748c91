/**
 * Where an endpoint may point. A runtime `add` can come from any NATS client, so a URL
 * whose host is (or resolves to) a loopback, link-local or unspecified address — this
 * machine, or a cloud metadata service at 169.254.169.254 — is refused unless the
 * operator allowed it in the config (`webhooks.allowPrivateAddresses`).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { WaError } from '../contract/index.js';

/** True for 127/8, 0/8, 169.254/16, ::1, ::, fe80::/10 and their IPv4-mapped forms. */
export function isDisallowedAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isDisallowedAddress(mapped[1] as string);
  if (isIP(a) === 4) {
    const [first, second] = a.split('.').map(Number) as [number, number];
    return first === 127 || first === 0 || (first === 169 && second === 254);
  }
  if (isIP(a) === 6) return a === '::1' || a === '::' || /^fe[89ab][0-9a-f]:/.test(a);
  return false;
}

/**
 * Resolves the URL's host and refuses it (`bad_request`) when any address it resolves
 * to is disallowed. A host that does not resolve is refused too: an endpoint nobody
 * can reach is a typo more often than a plan.
 */
export async function checkEndpointUrl(url: string, allowPrivate: boolean): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WaError('bad_request', 'url is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new WaError('bad_request', 'url must be http:// or https://');
  if (parsed.username || parsed.password)
    throw new WaError('bad_request', 'url must not carry credentials (sign with the secret instead)');
  if (allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((r) => r.address);
  } catch {
    throw new WaError('bad_request', `url host ${host.slice(0, 64)} does not resolve`);
  }
  const bad = addresses.find(isDisallowedAddress);
  if (bad !== undefined) {
    throw new WaError(
      'bad_request',
      `url host ${host.slice(0, 64)} resolves to ${bad}, a loopback or link-local address: allowed only with webhooks.allowPrivateAddresses in the config`,
    );
  }
}
