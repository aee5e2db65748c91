/**
 * Deadline timers of held sends. The machine has no timers of its own for sends, so
 * the NATS layer, which records `send.queued` with its `deadline`, keeps them: when
 * one passes and the stream still shows the send queued (not sent, not settled), it
 * asks the runtime to expire it (`AccountsPort.expire`); the runtime drops it from
 * the machine's outbox and reports `send.expired`. A send already handed to WhatsApp
 * is not recalled: the deadline means "not later than", not "undo".
 */

/** `setTimeout` holds at most 2^31-1 ms (~24.8 days); longer deadlines are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Deadlines {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly onDue: (account: string, id: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#timers.size;
  }

  /** Arms (or re-arms) the deadline of one send; a deadline in the past fires on the next tick. */
  arm(account: string, id: string, deadline: string): void {
    const key = keyOf(account, id);
    this.cancel(account, id);
    const due = Date.parse(deadline);
    const wait = Math.max(0, due - this.now());
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        if (due - this.now() > 0) this.arm(account, id, deadline);
        else this.onDue(account, id);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    // A pending deadline must not keep a stopping process alive.
    timer.unref();
    this.#timers.set(key, timer);
  }

  cancel(account: string, id: string): void {
    const key = keyOf(account, id);
    const t = this.#timers.get(key);
    if (t) clearTimeout(t);
    this.#timers.delete(key);
  }

  cancelAccount(account: string): void {
    for (const [key, t] of this.#timers) {
      if (key.startsWith(`${account}\u0000`)) {
        clearTimeout(t);
        this.#timers.delete(key);
      }
    }
  }

  clear(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

/** NUL cannot occur in an account id or a send id, so the key is unambiguous. */
function keyOf(account: string, id: string): string {
  return `${account}\u0000${id}`;
}
