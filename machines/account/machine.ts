import { and } from 'xstate';
import { initialContext, type AccountContext, type DrainNext } from './context.js';
import { accountDecisions } from './decisions.js';
import type { CloseAction } from './disconnect-policy.js';

// Typed references to the parameterized guards, for use inside and([...]).
const closeIs = (action: CloseAction) => ({ type: 'closeIs', params: { action } }) as const;
const drainNextIs = (next: DrainNext) => ({ type: 'drainNextIs', params: { next } }) as const;

// A drain closes its socket once nothing is in flight, or at once when its time is up.
const closeOnceSettled = { type: 'closeWhenSettled', params: { force: false } } as const;
const closeNow = { type: 'closeWhenSettled', params: { force: true } } as const;

/** An operator's logout, the same from every state but `loggedOut`: unlink the device. */
const logout = {
  target: 'loggedOut',
  actions: {
    type: 'logout',
    params: ({ context }: { context: AccountContext }) => ({ connectionId: context.connectionId }),
  },
} as const;

/**
 * What a close of the current socket leads to. First the closes for good, by the close
 * policy (disconnect-policy.ts): 401 ends in `loggedOut` (which fails what was in flight
 * rather than requeue it), the stop codes in `stopped`, a 402 ban in `reconnecting` until
 * the ban ends (ban.ts). Then `otherwise`, by default
 * `reconnect`.
 */
function onSocketClosed<const Otherwise extends readonly object[] = ReturnType<typeof reconnect>>(opts: {
  requeue: boolean;
  otherwise?: Otherwise;
}) {
  return [
    {
      guard: and(['fromCurrentSocket', closeIs('loggedOut')]),
      target: 'loggedOut',
      actions: 'recordDisconnect',
    },
    {
      guard: and(['fromCurrentSocket', closeIs('stop')]),
      target: 'stopped',
      actions: afterClose(opts.requeue),
    },
    {
      guard: and(['fromCurrentSocket', closeIs('waitBan')]),
      target: 'reconnecting',
      actions: [...asList(afterClose(opts.requeue)), 'holdUntilBanEnds'],
    },
    ...(opts.otherwise ?? reconnect({ requeue: opts.requeue })),
  ] as const;
}

/**
 * By the close policy: 515 reconnects at once (a fresh connection, from `connecting`
 * too), anything else after a backoff; `beforeBackoff` is tried just before that.
 */
function reconnect<const Before extends readonly object[] = []>(opts: { requeue: boolean; beforeBackoff?: Before }) {
  return [
    {
      guard: and(['fromCurrentSocket', closeIs('reconnectNow')]),
      target: 'connecting',
      reenter: true,
      actions: afterClose(opts.requeue),
    },
    ...(opts.beforeBackoff ?? []),
    { guard: 'fromCurrentSocket', target: 'reconnecting', actions: afterClose(opts.requeue) },
  ] as const;
}

const afterClose = (requeue: boolean) =>
  requeue ? (['recordDisconnect', 'requeueInFlight'] as const) : ('recordDisconnect' as const);
const asList = <T>(x: T | readonly T[]): readonly T[] => (Array.isArray(x) ? x : [x as T]);

/**
 * One WhatsApp account. Pure: the machine decides, the runtime acts. IO is requested
 * through the named actions (decisions.ts; no-ops here, implemented by src/ via
 * `machine.provide`), and comes back as facts (events.ts). Time and randomness come in
 * through events (`at`, timer firings) and the seeded PRNG in the context.
 */
export const accountMachine = accountDecisions.createMachine({
  id: 'account',
  context: ({ input }) => initialContext(input),
  initial: 'stopped',
  // Defaults for every state; states that treat these differently override them.
  on: {
    Send: { guard: 'isNewSend', actions: 'holdSend' },
    Expire: { guard: 'isHeld', actions: 'expireHeld' },
    // Outside `online` nothing is in flight, so only there does the deadline move.
    SendAcked: { guard: 'isTracked', actions: ['settleAcked', 'trackAckDeadline'] },
    SendRejected: { guard: 'isTracked', actions: ['settleRejected', 'trackAckDeadline'] },
  },
  states: {
    stopped: {
      entry: { type: 'enter', params: { state: 'stopped' } },
      on: {
        Connect: { target: 'connecting' },
        Pair: { target: 'connecting', actions: 'rememberPairPhone' },
        Logout: logout,
      },
    },

    connecting: {
      entry: [
        { type: 'enter', params: { state: 'connecting' } },
        'newConnection',
        { type: 'armTimer', params: { name: 'connect' } },
      ],
      exit: 'disarmTimer',
      on: {
        SocketOpened: { guard: 'fromCurrentSocket', target: 'online', actions: 'markOpened' },
        QrReceived: { guard: 'fromCurrentSocket', target: 'pairing' },
        PairingCodeIssued: { guard: 'fromCurrentSocket', target: 'pairing' },
        SocketClosed: onSocketClosed({ requeue: false }),
        ConnectTimedOut: {
          guard: 'timerArmed',
          target: 'reconnecting',
          actions: ['closeCurrentSocket', 'recordDisconnect'],
        },
        Disconnect: { target: 'stopped', actions: 'closeCurrentSocket' },
        Logout: logout,
      },
    },

    // No SocketOpened here: WhatsApp sends <success> (Baileys' 'open') only to a registered
    // device, and a pairing socket is not one; it ends with 515 (the phone linked us: log
    // in with the new credentials) and the next login opens.
    pairing: {
      entry: { type: 'enter', params: { state: 'pairing' } },
      on: {
        SocketClosed: onSocketClosed({
          requeue: false,
          otherwise: reconnect({
            requeue: false,
            // Nobody scanned: stop rather than cycle QR codes forever; `pair` starts again.
            beforeBackoff: [
              { guard: and(['fromCurrentSocket', 'pairingExpired']), target: 'stopped', actions: 'recordDisconnect' },
            ],
          }),
        }),
        Disconnect: { target: 'stopped', actions: 'closeCurrentSocket' },
        Logout: logout,
      },
    },

    // Logged in. Sends go straight out in every child state.
    online: {
      initial: 'open',
      exit: 'stopAckDeadline',
      on: {
        Send: { guard: 'isNewSend', actions: ['dispatchNow', 'trackAckDeadline'] },
        SocketClosed: onSocketClosed({ requeue: true }),
        // The server lost a send or its ack. Go-back-N: that send and every later one go
        // out again, in order and under the same ids, on a new connection (a later one
        // the server did take is deduplicated by the receiver). The link is dead, not
        // slow: nothing to drain, its close may never come.
        AckTimedOut: [
          // The deadline passed while our own process was frozen: the ack may sit unread.
          { guard: and(['ackDeadlineArmed', 'ackStallEarnsRetry']), actions: 'rearmAckDeadline' },
          {
            guard: 'ackDeadlineArmed',
            target: 'reconnecting',
            actions: ['closeCurrentSocket', 'recordDisconnect', 'requeueInFlight'],
          },
        ],
        Recycle: { target: 'draining', actions: { type: 'beginDrain', params: { next: 'reconnectNow' } } },
        Disconnect: { target: 'draining', actions: { type: 'beginDrain', params: { next: 'stop' } } },
        Logout: logout,
      },
      states: {
        open: {
          entry: [
            { type: 'enter', params: { state: 'open' } },
            'flushOutbox',
            'trackAckDeadline',
            { type: 'armTimer', params: { name: 'idle' } },
          ],
          exit: 'disarmTimer',
          on: {
            IdleElapsed: { guard: 'timerArmed', target: 'idle' },
            // Re-arming, not re-entering: inbound traffic must not publish a transition.
            InboundReceived: {
              guard: and(['fromCurrentSocket', 'inboundResetsIdle']),
              actions: { type: 'armTimer', params: { name: 'idle' } },
            },
          },
        },
        idle: {
          entry: [
            { type: 'enter', params: { state: 'idle' } },
            'pickProbeJitter',
            { type: 'armTimer', params: { name: 'probeJitter' } },
          ],
          exit: 'disarmTimer',
          on: {
            ProbeDue: { guard: 'timerArmed', target: 'pinging' },
            InboundReceived: { guard: and(['fromCurrentSocket', 'inboundResetsIdle']), target: 'open' },
          },
        },
        pinging: {
          entry: [
            { type: 'enter', params: { state: 'pinging' } },
            'startProbe',
            { type: 'armTimer', params: { name: 'probe' } },
          ],
          exit: 'disarmTimer',
          on: {
            ProbeAnswered: { guard: 'currentProbe', target: 'open', actions: 'resetStallRetries' },
            // Any frame read proves the link carries traffic.
            InboundReceived: { guard: 'fromCurrentSocket', target: 'open', actions: 'resetStallRetries' },
            ProbeTimedOut: [
              // The deadline passed while our own process was frozen: probe again before
              // calling a healthy link dead (field stalls of 97–100 s dropped accounts).
              {
                guard: and(['timerArmed', 'stallEarnsRetry']),
                target: 'pinging',
                reenter: true,
                actions: 'countStallRetry',
              },
              // Dead: nothing to drain, and a blackholed socket's close never comes (Baileys'
              // end() waits out the WebSocket's 30 s close timeout); back off and reconnect.
              {
                guard: 'timerArmed',
                target: '#account.reconnecting',
                actions: ['closeCurrentSocket', 'recordDisconnect', 'resetStallRetries', 'requeueInFlight'],
              },
            ],
          },
        },
      },
    },

    // A planned close of a live link (recycle, operator stop): in-flight acks are awaited
    // (up to drainTimeoutMs, then requeued), new sends are held, and the socket's close is
    // awaited so no event of the old socket can interleave with the next one. A dead link
    // is not drained (AckTimedOut, ProbeTimedOut).
    draining: {
      entry: [
        { type: 'enter', params: { state: 'draining' } },
        { type: 'armTimer', params: { name: 'drain' } },
        closeOnceSettled,
      ],
      // `drain` stays in the context after exit: DrainTimedOut's actions still read it.
      exit: 'disarmTimer',
      on: {
        SendAcked: { guard: 'isTracked', actions: ['settleAcked', closeOnceSettled] },
        SendRejected: { guard: 'isTracked', actions: ['settleRejected', closeOnceSettled] },
        // Any other close (ours, once settled, or the server's) ends the drain where it was going.
        SocketClosed: onSocketClosed({
          requeue: true,
          otherwise: [
            { guard: and(['fromCurrentSocket', drainNextIs('stop')]), target: 'stopped', actions: 'requeueInFlight' },
            { guard: 'fromCurrentSocket', target: 'connecting', actions: 'requeueInFlight' },
          ],
        }),
        DrainTimedOut: [
          {
            guard: and(['timerArmed', drainNextIs('stop')]),
            target: 'stopped',
            actions: ['requeueInFlight', closeNow],
          },
          { guard: 'timerArmed', target: 'connecting', actions: ['requeueInFlight', closeNow] },
        ],
        Disconnect: { actions: { type: 'redirectDrain', params: { next: 'stop' } } },
        Logout: logout,
      },
    },

    reconnecting: {
      entry: [
        { type: 'enter', params: { state: 'reconnecting' } },
        'scheduleBackoff',
        { type: 'armTimer', params: { name: 'backoff' } },
      ],
      exit: 'disarmTimer',
      on: {
        BackoffElapsed: { guard: 'timerArmed', target: 'connecting' },
        Connect: { target: 'connecting' },
        Disconnect: { target: 'stopped' },
        Logout: logout,
      },
    },

    // Final until a new pairing. Credentials are cleared only when an operator asks.
    loggedOut: {
      entry: [{ type: 'enter', params: { state: 'loggedOut' } }, 'failAllSends'],
      on: {
        Send: { actions: 'refuseSend' },
        Pair: { target: 'connecting', actions: ['clearCredentials', 'rememberPairPhone'] },
        Logout: { actions: 'clearCredentials' },
      },
    },
  },
});

export type AccountMachine = typeof accountMachine;
