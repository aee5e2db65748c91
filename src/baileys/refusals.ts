/**
 * WhatsApp's refusals of a send: the server answers the `<message>` with
 * `<ack class="message" id error="…">`. Baileys logs it (handleBadAck in
 * Socket/messages-recv.js; named: 463 MessageAccountRestriction, 479 SmaxInvalid, and the
 * reach-out timelock, also 463) and emits messages.update status ERROR with
 * messageStubParameters [error]; the gateway reads the ack itself (connection.ts,
 * serverAck). An error ack settles the send as `send.failed`, never replayed: the server
 * did receive it, so sending it again is a new attempt, not recovery of a lost stanza.
 * `retryable` tells the caller whether a *new* send later may succeed. The one table;
 * docs/subjects.md and docs/runbook.md describe it.
 */

export interface Refusal {
  /** WhatsApp's error code, as a number (463). */
  statusCode: number;
  /** Machine-readable name (`send.failed` reason). */
  reason: string;
  /** false: do not try again — it fails the same way, or trying makes it worse. */
  retryable: boolean;
}

const TABLE: Readonly<Record<number, Omit<Refusal, 'statusCode'>>> = {
  // 463: no privacy token (tctoken) for a new chat, or a reach-out timelock: the account
  // is restricted. Baileys: "No retry — retrying counts as another reach out and worsens
  // the restriction". Existing chats still work.
  463: { reason: 'reachOutRestricted', retryable: false },
  // 479 SMAX_INVALID: the stanza failed server validation (stale device list, malformed
  // addressing); the same stanza is refused again.
  479: { reason: 'invalidStanza', retryable: false },
  // Plain client errors: the same message is refused again.
  400: { reason: 'badRequest', retryable: false },
  401: { reason: 'notAuthorized', retryable: false },
  403: { reason: 'forbidden', retryable: false },
  404: { reason: 'recipientNotFound', retryable: false },
  406: { reason: 'notAcceptable', retryable: false },
  // Server-side trouble or rate limits: a new send later may go through.
  429: { reason: 'rateLimited', retryable: true },
  500: { reason: 'serverError', retryable: true },
  503: { reason: 'serviceUnavailable', retryable: true },
};

/** Unknown codes fail closed (whatsmeow's rule): not retryable until someone looks. */
const UNKNOWN = { reason: 'refused', retryable: false } as const;

/** The refusal an error ack's `error` attribute names. */
export function refusalOf(error: string): Refusal {
  const statusCode = Number.parseInt(error, 10);
  const known = Number.isInteger(statusCode) ? TABLE[statusCode] : undefined;
  return { statusCode: Number.isInteger(statusCode) ? statusCode : 0, ...(known ?? UNKNOWN) };
}

/** Every known refusal, for docs and tests. */
export const KNOWN_REFUSALS: readonly Refusal[] = Object.entries(TABLE).map(([code, r]) => ({
  statusCode: Number(code),
  ...r,
}));
