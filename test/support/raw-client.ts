// A minimal client that speaks the protocol with Baileys' own Noise handler but none of the
// socket machinery: ~tens of KB per connection instead of a full Baileys socket. Used to test
// bad input and the routing-info intro, and by the benchmark to open 1,000 sessions cheaply.
import WebSocket from 'ws';
import pino from 'pino';
import {
  Curve,
  NOISE_WA_HEADER,
  decodeBinaryNode,
  encodeBinaryNode,
  jidDecode,
  makeNoiseHandler,
  proto,
  type AuthenticationCreds,
  type BinaryNode,
  type KeyPair,
} from '@whiskeysockets/baileys';

/** Deadline for the handshake and login of one raw client. */
const RAW_LOGIN_DEADLINE_MS = 10_000;

export interface RawClient {
  ws: WebSocket;
  nodes: BinaryNode[];
  sendNode(node: BinaryNode): Promise<void>;
  /** Resolves with the first received node matching `tag` (already received or future). */
  next(tag: string, deadlineMs?: number): Promise<BinaryNode>;
  closed: Promise<number>;
  close(): void;
}

const silent = pino({ level: 'silent' });

export interface RawLoginOptions {
  routingInfo?: Buffer;
  /** Verify the server's certificate chain like Baileys does (two pure-JS XEdDSA verifies,
   * ~13 ms of CPU). Off for load tests, where it would dominate the client side. */
  verifyCertificate?: boolean;
}

/** Only what a login needs: the Noise key and the device jid. */
export type LoginCreds = Pick<AuthenticationCreds, 'noiseKey' | 'me'>;

export function rawLogin(url: string, creds: LoginCreds, options: RawLoginOptions = {}): Promise<RawClient> {
  const verify = options.verifyCertificate ?? true;
  const ephemeral = Curve.generateKeyPair();
  const noise = makeNoiseHandler({
    keyPair: ephemeral,
    NOISE_HEADER: NOISE_WA_HEADER,
    logger: silent,
    routingInfo: options.routingInfo,
  });
  const ws = new WebSocket(url);
  const nodes: BinaryNode[] = [];
  const listeners = new Set<() => void>();
  let handshaken = false;
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('error', () => undefined);

  const client: RawClient = {
    ws,
    nodes,
    sendNode: async (node) => {
      ws.send(noise.encodeFrame(encodeBinaryNode(node)));
    },
    next: (tag, deadlineMs = RAW_LOGIN_DEADLINE_MS) =>
      new Promise<BinaryNode>((resolve, reject) => {
        const check = (): void => {
          const found = nodes.find((n) => n.tag === tag);
          if (!found) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`raw client: no <${tag}> within ${deadlineMs} ms`));
        }, deadlineMs);
        listeners.add(check);
        check();
      }),
    closed,
    close: () => ws.close(),
  };

  ws.on('open', () => {
    ws.send(
      noise.encodeFrame(proto.HandshakeMessage.encode({ clientHello: { ephemeral: ephemeral.public } }).finish()),
    );
  });
  ws.on('message', (data: Buffer) => {
    void noise.decodeFrame(data, (frame: Uint8Array | BinaryNode) => {
      if (!handshaken) {
        handshaken = true;
        const hello = proto.HandshakeMessage.decode(frame as Uint8Array);
        const keyEnc = verify
          ? noise.processHandshake(hello, creds.noiseKey)
          : unverifiedHandshake(noise, hello, ephemeral, creds.noiseKey);
        const me = jidDecode(creds.me?.id);
        const payload = proto.ClientPayload.fromObject({
          username: Number(me?.user),
          device: me?.device ?? 0,
          passive: true,
          pull: true,
          connectType: proto.ClientPayload.ConnectType.WIFI_UNKNOWN,
          connectReason: proto.ClientPayload.ConnectReason.USER_ACTIVATED,
          userAgent: {
            platform: proto.ClientPayload.UserAgent.Platform.WEB,
            appVersion: { primary: 2, secondary: 3000, tertiary: 1 },
          },
        });
        const payloadEnc = noise.encrypt(proto.ClientPayload.encode(payload).finish());
        ws.send(
          noise.encodeFrame(
            proto.HandshakeMessage.encode({ clientFinish: { static: keyEnc, payload: payloadEnc } }).finish(),
          ),
        );
        void noise.finishInit();
        return;
      }
      nodes.push(frame as BinaryNode);
      for (const l of [...listeners]) l();
    });
  });

  return client
    .next('success')
    .then(() => client)
    .catch((err: unknown) => {
      ws.terminate();
      throw err;
    });
}

type NoiseHandler = ReturnType<typeof makeNoiseHandler>;

/** processHandshake without the certificate checks (same key schedule). */
function unverifiedHandshake(
  noise: NoiseHandler,
  hello: proto.HandshakeMessage,
  ephemeral: KeyPair,
  noiseKey: KeyPair,
): Uint8Array {
  const server = hello.serverHello;
  if (!server?.ephemeral || !server.static || !server.payload) throw new Error('raw client: incomplete server hello');
  noise.authenticate(server.ephemeral);
  noise.mixIntoKey(Curve.sharedKey(ephemeral.private, server.ephemeral));
  const serverStatic = noise.decrypt(server.static);
  noise.mixIntoKey(Curve.sharedKey(ephemeral.private, serverStatic));
  noise.decrypt(server.payload);
  const keyEnc = noise.encrypt(noiseKey.public);
  noise.mixIntoKey(Curve.sharedKey(noiseKey.private, server.ephemeral));
  return keyEnc;
}

/** Login credentials for a device the simulator does not know yet: with the default
 * `unknownAccounts: 'register'` it is registered on first login. No signatures to make. */
export function anonymousDevice(phone: string, device = 1): LoginCreds {
  return { noiseKey: Curve.generateKeyPair(), me: { id: `${phone}:${device}@s.whatsapp.net` } };
}

export { decodeBinaryNode };
