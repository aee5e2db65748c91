/**
 * Exit codes of `wa-connd`, for scripts. Stable: changing one is a breaking change.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The gateway answered with an error (printed as `code: message`), or the demo lost or duplicated a message. */
  failed: 1,
  /** Bad usage (unknown command or option, missing argument) or bad configuration. */
  usage: 2,
  /** No NATS server could be reached. */
  natsUnreachable: 3,
  /** NATS is up but no gateway answered (none running, or it did not reply in time). */
  noGateway: 4,
  /** The gateway answered, but what the command waits for did not happen in time (`pair`: no scan; `disconnect`: still draining). Retry or look. */
  timedOut: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
