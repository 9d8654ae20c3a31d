/**
 * The small key–value state machine of the simulation: puts and appends arrive through the log,
 * gets are served locally after a ReadIndex. Snapshots are its JSON.
 */
export type KvWrite = { op: 'put' | 'append'; key: string; value: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeKvWrite(write: KvWrite): Uint8Array {
  return encoder.encode(JSON.stringify(write));
}

export class KvStateMachine {
  private data = new Map<string, string>();
  appliedIndex = 0;

  /** Applies the entry at `index`; an empty entry (a leader's no-op) changes nothing. */
  apply(index: number, data: Uint8Array): void {
    this.appliedIndex = index;
    if (data.length === 0) return;
    const write = JSON.parse(decoder.decode(data)) as KvWrite;
    if (write.op === 'put') this.data.set(write.key, write.value);
    else this.data.set(write.key, (this.data.get(write.key) ?? '') + write.value);
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  snapshot(): Uint8Array {
    return encoder.encode(
      JSON.stringify({ appliedIndex: this.appliedIndex, data: [...this.data] }),
    );
  }

  restore(bytes: Uint8Array): void {
    const parsed = JSON.parse(decoder.decode(bytes)) as {
      appliedIndex: number;
      data: Array<[string, string]>;
    };
    this.appliedIndex = parsed.appliedIndex;
    this.data = new Map(parsed.data);
  }
}
