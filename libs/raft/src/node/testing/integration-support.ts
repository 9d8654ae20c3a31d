import type { RaftNodeLogger } from '../raft-node';

export { freePorts } from '@xcron/testing';

/** Keeps what a node logs, for assertions on it. */
export class CapturingLogger implements RaftNodeLogger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

/** Polls `done` every 20 ms; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  done: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
