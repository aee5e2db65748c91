import { createActor, type AnyTransitionDefinition, type InspectionEvent } from 'xstate';
import {
  accountMachine,
  stateName,
  type AccountEvent,
  type AccountInput,
  type AccountSnapshot,
  type AccountStateName,
  type IoParams,
  type TimerRequest,
  type TransitionRecord,
} from '../../machines/index.js';

/** One IO request the machine made, with the state the machine was in once it settled. */
export type IoCall = { [K in keyof IoParams]: { type: K; params: IoParams[K]; step: number } }[keyof IoParams];

export interface Step {
  event: AccountEvent;
  before: AccountSnapshot;
  after: AccountSnapshot;
  calls: IoCall[];
  records: TransitionRecord[];
  /** The timers armed once the step settled, as the IO saw them: the state's and the ack deadline. */
  armed: TimerRequest | null;
  armedAck: TimerRequest | null;
}

/**
 * Runs the real account machine with recording IO and a manual timer: nothing happens
 * unless a test sends an event, so every run is deterministic.
 */
export function runAccount(input: Partial<AccountInput> = {}) {
  const calls: IoCall[] = [];
  const records: TransitionRecord[] = [];
  const steps: Step[] = [];
  const taken: AnyTransitionDefinition[] = [];
  // The machine's timer slots (timers.ts): the state's timer and the ack deadline.
  let armed: TimerRequest | null = null;
  let armedAck: TimerRequest | null = null;
  let step = 0;

  const record =
    <K extends keyof IoParams>(type: K) =>
    (_: unknown, params: IoParams[K]) => {
      calls.push({ type, params, step } as IoCall);
    };
  const machine = accountMachine.provide({
    actions: {
      openSocket: record('openSocket'),
      closeSocket: record('closeSocket'),
      sendProbe: record('sendProbe'),
      dispatchSend: record('dispatchSend'),
      failSend: record('failSend'),
      expireSend: record('expireSend'),
      logout: record('logout'),
      clearCredentials: () => calls.push({ type: 'clearCredentials', params: undefined, step }),
      startTimer: (_, params) => {
        if (params.slot === 'ack') armedAck = params;
        else armed = params;
      },
      stopTimer: (_, params) => {
        if (params.slot === 'ack') armedAck = null;
        else armed = null;
      },
    },
  });
  const actor = createActor(machine, {
    input: { account: 'acc', seed: 42, ...input },
    inspect: (ev: InspectionEvent) => {
      if (ev.type === '@xstate.microstep') taken.push(...ev._transitions);
    },
  });
  actor.on('transition', (r) => records.push(r));
  actor.start();

  const send = (event: AccountEvent): Step => {
    step += 1;
    const before = actor.getSnapshot();
    const firstCall = calls.length;
    const firstRecord = records.length;
    actor.send(event);
    const s: Step = {
      event,
      before,
      after: actor.getSnapshot(),
      calls: calls.slice(firstCall),
      records: records.slice(firstRecord),
      armed,
      armedAck,
    };
    steps.push(s);
    return s;
  };

  const fire = (request: TimerRequest | null, extra: { stalledMs?: number; at?: number }) => {
    if (!request) throw new Error(`no timer armed in ${stateName(actor.getSnapshot())}`);
    const { fires, token } = request;
    const at = extra.at ?? 0;
    return send(
      fires === 'ProbeTimedOut' || fires === 'AckTimedOut'
        ? { type: fires, token, at, stalledMs: extra.stalledMs ?? 0 }
        : { type: fires, token, at },
    );
  };

  return {
    actor,
    calls,
    records,
    steps,
    taken,
    send,
    snapshot: () => actor.getSnapshot(),
    state: (): AccountStateName => stateName(actor.getSnapshot()),
    armed: () => armed,
    armedAck: () => armedAck,
    /** Fire the state's armed timer as the runtime would. */
    fire: (extra: { stalledMs?: number; at?: number } = {}) => fire(armed, extra),
    /** Fire the armed ack deadline as the runtime would. */
    fireAck: (extra: { stalledMs?: number; at?: number } = {}) => fire(armedAck, extra),
  };
}

export type AccountRun = ReturnType<typeof runAccount>;
