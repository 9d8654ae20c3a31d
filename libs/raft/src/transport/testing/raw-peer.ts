import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FrameDecoder, type DecodedFrame } from '../frame-codec';
import {
  AcceptorHandshake,
  DialerHandshake,
  type Handshake,
  type LocalIdentity,
} from '../handshake';
import type { PeerEndpoint } from '../transport.options';
import { EventLog } from './event-log';

/**
 * A hand-driven peer speaking the wire protocol through the real handshake classes, for the tests
 * that need to misbehave: send garbage or oversized frames, or go silent after the handshake.
 */
export class RawConnection {
  readonly frames = new EventLog<DecodedFrame>();
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);

  constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.frames.end('the connection closed');
        resolve();
      }),
    );
    socket.on('error', () => undefined); // the close event is what tests await
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== undefined; frame = this.decoder.next())
        this.frames.push(frame);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Runs `handshake` to completion over this socket; rejects if it is refused or takes too long. */
  async handshake(handshake: Handshake, timeoutMs = 5_000): Promise<void> {
    const first = handshake.start();
    if (first !== undefined) this.write(first);
    let handled = 0;
    for (;;) {
      await this.frames.waitForCount(() => true, handled + 1, timeoutMs, 'a handshake frame');
      const frame = this.frames.items[handled++];
      const outcome = handshake.receive(frame.kind, frame.body);
      if (outcome.reply !== undefined) this.write(outcome.reply);
      if (outcome.status === 'open') return;
      if (outcome.status === 'refused')
        throw new Error(`raw handshake refused: ${outcome.refusal.reason}`);
    }
  }

  destroy(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

export async function rawDial(endpoint: PeerEndpoint): Promise<RawConnection> {
  const socket = connect({ host: endpoint.host, port: endpoint.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new RawConnection(socket);
}

/** Dials and completes a real handshake as node `identity.nodeId`, expecting to reach `peerId`. */
export async function rawDialAuthenticated(
  endpoint: PeerEndpoint,
  identity: LocalIdentity,
  peerId: string,
  secret?: Buffer,
): Promise<RawConnection> {
  const raw = await rawDial(endpoint);
  await raw.handshake(new DialerHandshake(identity, secret, peerId));
  return raw;
}

/** A listener that completes the acceptor's handshake, then never answers: a hung peer process. */
export class SilentAcceptor {
  readonly connections = new EventLog<RawConnection>();
  private readonly server: Server;

  constructor(
    private readonly identity: LocalIdentity,
    /** Also stop reading after the handshake, so that the dialer's writes back up. */
    private readonly pauseReading = false,
  ) {
    this.server = createServer((socket) => {
      const raw = new RawConnection(socket);
      this.connections.push(raw);
      raw
        .handshake(new AcceptorHandshake(this.identity, undefined))
        .then(() => (this.pauseReading ? socket.pause() : undefined))
        .catch(() => raw.destroy());
    });
  }

  async listen(): Promise<PeerEndpoint> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return { host: '127.0.0.1', port };
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.items.map((raw) => raw.destroy()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
