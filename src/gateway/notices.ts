/**
 * Lines for the person at the terminal (stderr, so stdout stays JSON logs) about a
 * gateway that cannot reach WhatsApp at all. One line when it starts failing, not one
 * per retry; another when the cause changes, and again after a connection worked.
 */
import { UNREACHABLE } from '../../machines/index.js';
import { WHATSAPP_WS_URL } from '../baileys/connection.js';
import type { RunningGateway } from './start.js';

/** What a network error code means and what to check, in a few words. */
export function unreachableHint(cause: string): string {
  if (/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME)$/.test(cause))
    return 'the host name does not resolve: check DNS and the network connection';
  if (cause === 'ECONNREFUSED') return 'the connection was refused: nothing listens there, or a firewall rejects it';
  if (/^(ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENETDOWN|EHOSTDOWN)$/.test(cause))
    return 'no route or no answer: check the network connection, firewall and proxy';
  if (/^(ECONNRESET|EPIPE)$/.test(cause))
    return 'the connection was cut during the handshake: check for a proxy or firewall in the way';
  // EPROTO: OpenSSL refused the handshake (e.g. something that does not speak TLS answered).
  if (cause === 'EPROTO' || /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_/.test(cause))
    return 'TLS failed: a TLS-inspecting proxy, something that does not speak TLS, or a wrong system clock';
  return 'check the network connection and proxy';
}

export function unreachableNotice(cause: string, url: string): string {
  return (
    `wa-connd cannot reach WhatsApp at ${url}: ${cause} (${unreachableHint(cause)}; or whatsapp.url / WA_CONND_WA_URL). ` +
    `Retrying with backoff; see "WhatsApp unreachable" in docs/runbook.md.`
  );
}

export function printReachability(running: RunningGateway, out: NodeJS.WritableStream = process.stderr): () => void {
  const url = running.config.whatsapp.url ?? WHATSAPP_WS_URL;
  /** The cause last printed; null once a connection worked (a later failure is news). */
  let printed: string | null = null;
  return running.onFact((fact) => {
    if (fact.type !== 'transition') return;
    if (fact.reason === UNREACHABLE.reason && fact.cause !== undefined) {
      if (fact.cause === printed) return;
      printed = fact.cause;
      out.write(`${unreachableNotice(fact.cause, url)}\n`);
    } else if (fact.to === 'open') {
      printed = null;
    }
  });
}
