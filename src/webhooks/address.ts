/**
 * Where an endpoint may point. A runtime `add` can come from any NATS client, so a URL
 * whose host is (or resolves to) a loopback, link-local or unspecified address — this
 * machine, or a cloud metadata service at 169.254.169.254 — is refused unless the
 * operator allowed it in the config (`webhooks.allowPrivateAddresses`).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { WaError } from '../contract/index.js';

/** Loopback, unspecified and link-local ranges; IPv4-mapped IPv6 forms match the IPv4 rules (BlockList does that). */
const DISALLOWED = new BlockList();
DISALLOWED.addSubnet('127.0.0.0', 8, 'ipv4');
DISALLOWED.addSubnet('0.0.0.0', 8, 'ipv4');
DISALLOWED.addSubnet('169.254.0.0', 16, 'ipv4');
DISALLOWED.addAddress('::1', 'ipv6');
DISALLOWED.addAddress('::', 'ipv6');
DISALLOWED.addSubnet('fe80::', 10, 'ipv6');

export function isDisallowedAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  const family = isIP(a);
  return family !== 0 && DISALLOWED.check(a, family === 4 ? 'ipv4' : 'ipv6');
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
