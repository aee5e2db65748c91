/**
 * Exit codes of `wa-connd`, for scripts. Stable: changing one is a breaking change.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The gateway answered with an error (printed as `code: message`), `accounts import`/`export` refused (same form), or the demo lost or duplicated a message. */
  failed: 1,
  /** Bad usage (unknown command or option, missing argument) or bad configuration. */
  usage: 2,
  /** No NATS server could be reached. */
  natsUnreachable: 3,
  /** NATS is up but no gateway answered (none running, or it did not reply in time). */
  noGateway: 4,
  /** The gateway answered, but what the command waits for did not happen in time (`pair`: no scan; `disconnect`: still draining). Retry or look. */
  timedOut: 5,
  /** `start`: the gateway could not start (the HTTP port is taken, an account's credentials are locked by another process, …); stderr says what and what to do. */
  startFailed: 6,
  /** `start`: an unhandled error (a bug) stopped the gateway; the log has it at fatal with the stack. 70 = EX_SOFTWARE (sysexits.h). */
  internalError: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
