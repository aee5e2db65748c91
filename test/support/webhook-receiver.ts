/**
 * A real HTTP webhook receiver for the tests: verifies every request with the
 * `standardwebhooks` library (as a receiver would), deduplicates by `webhook-id`,
 * and misbehaves on demand (`behave` picks the answer per request).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Received = { id: string; account: string; seq: number; type: string; body: Record<string, unknown> };

/** `ok` answers 200; `status` answers that code; `reset` destroys the socket; `slow` answers 200 after `ms` (past the sender's timeout). */
export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'slow'; ms: number };

export type Receiver = {
  url: string;
  /** First arrival of each webhook-id, in arrival order. */
  unique: Received[];
  /** Every request that verified (duplicates included). */
  requests: number;
  duplicates: number;
  badSignatures: number;
  /** Arrivals of an account's event before its previous one was answered 2xx. */
  orderViolations: string[];
  /** Requests in batch mode. */
  batches: number;
  behave: (r: Received) => Behaviour;
  seqsOf(account: string): number[];
  close(): Promise<void>;
};

export async function startReceiver(secret: string): Promise<Receiver> {
  const wh = new Webhook(secret);
  const seen = new Set<string>();
  /** Per account: the seq last answered 2xx in time (what the sender saw). */
  const answered = new Map<string, number>();
  const r: Receiver = {
    url: '',
    unique: [],
    requests: 0,
    duplicates: 0,
    badSignatures: 0,
    orderViolations: [],
    batches: 0,
    behave: () => ({ kind: 'ok' }),
    seqsOf: (account) => r.unique.filter((x) => x.account === account).map((x) => x.seq),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    let body: Record<string, unknown>;
    try {
      body = wh.verify(raw, req.headers as Record<string, string>) as Record<string, unknown>;
    } catch {
      r.badSignatures++;
      res.writeHead(401).end();
      return;
    }
    r.requests++;
    // Batch mode: `data` is a list of `{ id, type, timestamp, data }`, one per event.
    const items: Received[] =
      body.type === 'batch'
        ? (body.data as { id: string; data: { account: string; seq: number; type: string } }[]).map((x) => ({
            id: x.id,
            account: x.data.account,
            seq: x.data.seq,
            type: x.data.type,
            body: x as unknown as Record<string, unknown>,
          }))
        : [
            {
              id: String(req.headers['webhook-id']),
              ...pick(body.data as { account: string; seq: number; type: string }),
              body,
            },
          ];
    if (body.type === 'batch') r.batches++;
    const behaviour = r.behave(items[0] as Received);
    if (behaviour.kind === 'reset') return void req.socket.destroy();
    if (behaviour.kind === 'status') return void res.writeHead(behaviour.status, behaviour.headers).end('no');
    // Accepted (also when the answer comes too late for the sender): recorded once per id.
    // Within one request (one account) each item may follow the one before it.
    let floor = answered.get(items[0]?.account ?? '') ?? 0;
    for (const got of items) {
      if (got.seq > floor + 1)
        r.orderViolations.push(`${got.account}: seq ${got.seq} arrived while ${floor} was the last answered 2xx`);
      floor = Math.max(floor, got.seq);
      if (seen.has(got.id)) r.duplicates++;
      else {
        seen.add(got.id);
        r.unique.push(got);
      }
    }
    if (behaviour.kind !== 'slow' && items[0]) answered.set(items[0].account, floor);
    if (behaviour.kind === 'slow') {
      setTimeout(() => res.writeHead(200).end(), behaviour.ms).unref();
      return;
    }
    res.writeHead(200).end('ok');
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

const pick = (d: { account: string; seq: number; type: string }) => ({ account: d.account, seq: d.seq, type: d.type });
