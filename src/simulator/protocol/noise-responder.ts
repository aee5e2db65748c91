// Noise XX as the responder, mirroring Baileys' initiator (Utils/noise-handler.js):
// h = ck = k = NOISE_MODE (32 bytes, used as is); mixHash(header), mixHash(client ephemeral);
// server: mixHash(e), mixKey(DH(e, ce)), enc(static), mixKey(DH(s, ce)), enc(certChain);
// client finish: dec(static) → cs, mixKey(DH(e, cs)), dec(ClientPayload); split with
// hkdf('', 64, salt=ck): the client writes with the first half and reads with the second.
import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, proto, sha256, type KeyPair } from '../wa.js';
import { SimulatorError } from '../errors.js';
import type { ServerIdentity } from './certificate.js';

const IV_LENGTH = 12;
const KEY_LENGTH = 32;
const EMPTY = Buffer.alloc(0);

function iv(counter: number): Buffer {
  const out = Buffer.alloc(IV_LENGTH);
  out.writeUInt32BE(counter, 8);
  return out;
}

/** Transport keys after the split: independent counters, empty AAD. */
export class NoiseTransport {
  private readCounter = 0;
  private writeCounter = 0;
  constructor(
    private readonly readKey: Buffer,
    private readonly writeKey: Buffer,
  ) {}

  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.writeKey, iv(this.writeCounter++), EMPTY);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.readKey, iv(this.readCounter++), EMPTY);
  }
}

export interface HandshakeResult {
  transport: NoiseTransport;
  /** The client's Noise static public key (creds.noiseKey.public). */
  clientStatic: Buffer;
  payload: proto.ClientPayload;
}

export class NoiseResponder {
  private hash: Buffer = Buffer.from(NOISE_MODE);
  private salt: Buffer = this.hash;
  private key: Buffer = this.hash;
  private counter = 0;
  private ephemeral: KeyPair | undefined;

  constructor(
    private readonly identity: ServerIdentity,
    header: Buffer,
  ) {
    this.mixHash(header);
  }

  /** Reads the client hello and returns the server hello bytes to frame and send. */
  respondToHello(frame: Buffer): Buffer {
    const hello = proto.HandshakeMessage.decode(frame).clientHello;
    const clientEphemeral = hello?.ephemeral;
    if (!clientEphemeral || clientEphemeral.length !== KEY_LENGTH) {
      throw new SimulatorError('handshake_failed', 'client hello without a 32-byte ephemeral key');
    }
    const ce = Buffer.from(clientEphemeral);
    this.mixHash(ce);
    const e = Curve.generateKeyPair();
    this.ephemeral = e;
    this.mixHash(e.public);
    this.mixKey(Curve.sharedKey(e.private, ce));
    const staticEnc = this.encrypt(this.identity.static.public);
    this.mixKey(Curve.sharedKey(this.identity.static.private, ce));
    const payloadEnc = this.encrypt(this.identity.certChain);
    return Buffer.from(
      proto.HandshakeMessage.encode({
        serverHello: { ephemeral: e.public, static: staticEnc, payload: payloadEnc },
      }).finish(),
    );
  }

  /** Reads the client finish and splits into transport keys. */
  finish(frame: Buffer): HandshakeResult {
    if (!this.ephemeral) throw new SimulatorError('handshake_failed', 'client finish before client hello');
    const fin = proto.HandshakeMessage.decode(frame).clientFinish;
    if (!fin?.static || !fin.payload)
      throw new SimulatorError('handshake_failed', 'client finish without static key or payload');
    const clientStatic = this.decrypt(Buffer.from(fin.static));
    if (clientStatic.length !== KEY_LENGTH)
      throw new SimulatorError('handshake_failed', 'client static key is not 32 bytes');
    this.mixKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(this.decrypt(Buffer.from(fin.payload)));
    const split = Buffer.from(hkdf(EMPTY, 64, { salt: this.salt, info: '' }));
    // The client encrypts with the first half and decrypts with the second.
    const transport = new NoiseTransport(split.subarray(0, KEY_LENGTH), split.subarray(KEY_LENGTH));
    return { transport, clientStatic, payload };
  }

  private mixHash(data: Uint8Array): void {
    this.hash = Buffer.from(sha256(Buffer.concat([this.hash, data])));
  }

  private mixKey(ikm: Uint8Array): void {
    const out = Buffer.from(hkdf(Buffer.from(ikm), 64, { salt: this.salt, info: '' }));
    this.salt = out.subarray(0, KEY_LENGTH);
    this.key = out.subarray(KEY_LENGTH);
    this.counter = 0;
  }

  private encrypt(plaintext: Uint8Array): Buffer {
    const out = aesEncryptGCM(plaintext, this.key, iv(this.counter++), this.hash);
    this.mixHash(out);
    return out;
  }

  private decrypt(ciphertext: Buffer): Buffer {
    const out = aesDecryptGCM(ciphertext, this.key, iv(this.counter++), this.hash);
    this.mixHash(ciphertext);
    return out;
  }
}
