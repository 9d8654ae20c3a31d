import type { TaskSpec } from '../task/task.model';
import {
  decodeCommand,
  decodeResult,
  encodeCommand,
  encodeResult,
  type CommandResult,
  type CreateTasksCommand,
} from './scheduler-command';
import { specDigestOf } from './spec-digest';
import { decodeDelivery } from './state-store-codec';

const spec: TaskSpec = {
  name: 'nightly',
  schedule: { kind: 'cron', expression: '0 3 * * *', timezone: 'Europe/Paris' },
  callback: {
    url: 'https://example.test/hook',
    body: { deep: [1, 'two', { three: null }] },
    headers: { 'x-team': 'ops' },
  },
  timeoutMs: 2_500,
  retry: { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 9_000 },
  startAtMs: 1_800_000_000_000,
  expireAtMs: 1_900_000_000_000,
  jitterMs: 30,
  overlap: 'buffer_one',
  misfire: 'fire_all',
  idempotencyKey: 'nightly-2026',
};
const plain: TaskSpec = {
  schedule: { kind: 'once', runAtMs: 1_800_000_000_123 },
  callback: { url: 'http://127.0.0.1:9/x', body: 'just a string' },
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000 },
  jitterMs: 0,
  overlap: 'allow',
  misfire: 'fire_once',
};

describe('create commands (binary)', () => {
  it('carry the timing as written, the delivery in its stored encoding and the digest of a keyed spec', () => {
    const command: CreateTasksCommand = {
      t: 'create',
      atMs: 1_764_000_000_000,
      tasks: [
        { taskId: '1', spec },
        { taskId: '9223372036854775807', spec: plain },
      ],
    };
    const bytes = encodeCommand(command);
    expect(bytes[0]).toBe(3);
    const decoded = decodeCommand(bytes) as CreateTasksCommand;
    expect(decoded.atMs).toBe(command.atMs);
    const [first, second] = decoded.tasks;
    if ('spec' in first || 'spec' in second) throw new Error('decoded items carry no spec');
    const { name: _n, callback: _c, timeoutMs: _t, retry: _r, ...timing } = spec;
    expect(first).toMatchObject({ taskId: '1', timing, specDigest: specDigestOf(spec) });
    expect(decodeDelivery(first.delivery)).toEqual({
      name: spec.name,
      callback: spec.callback,
      timeoutMs: spec.timeoutMs,
      retry: spec.retry,
    });
    expect(second.taskId).toBe('9223372036854775807');
    expect(second.specDigest).toBeUndefined();
    expect(decodeDelivery(second.delivery).callback.body).toBe('just a string');
    // A decoded command encodes to the same bytes (a follower forwarding it, a journal replay).
    expect(encodeCommand(decoded)).toEqual(bytes);
  });

  it('refuses a create cut short or with bytes after its last task, saying where', () => {
    const bytes = encodeCommand({ t: 'create', atMs: 1, tasks: [{ taskId: '7', spec: plain }] });
    expect(() => decodeCommand(bytes.subarray(0, bytes.length - 3))).toThrow(
      /create command of \d+ bytes is cut short at byte \d+/,
    );
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(() => decodeCommand(longer)).toThrow(/2 bytes after its last task/);
  });

  it('still decodes the v2 create format (logs and journals written before v3)', () => {
    const utf8 = (text: string): number[] => [...new TextEncoder().encode(text)];
    const u32 = (value: number): number[] => [
      value >>> 24,
      (value >>> 16) & 255,
      (value >>> 8) & 255,
      value & 255,
    ];
    const header = utf8(JSON.stringify({ atMs: 77, n: 1 }));
    const timing = utf8(
      JSON.stringify({ schedule: plain.schedule, jitterMs: 0, overlap: 'allow', misfire: 'skip' }),
    );
    const delivery = [1, ...utf8('["http://127.0.0.1:9/x","b"]')];
    const bytes = Uint8Array.from([
      2,
      ...u32(header.length),
      ...header,
      1,
      ...utf8('5'),
      ...u32(timing.length),
      ...timing,
      ...u32(delivery.length),
      ...delivery,
      0,
    ]);
    const decoded = decodeCommand(bytes) as CreateTasksCommand;
    expect(decoded.atMs).toBe(77);
    expect(decoded.tasks).toEqual([
      {
        taskId: '5',
        timing: { schedule: plain.schedule, jitterMs: 0, overlap: 'allow', misfire: 'skip' },
        delivery: Uint8Array.from(delivery),
      },
    ]);
    // Re-encoded (a follower forwarding it, a journal replay), it is v3 and means the same.
    const again = decodeCommand(encodeCommand(decoded));
    expect(again).toEqual(decoded);
  });

  it('keeps the other commands in JSON', () => {
    const command = { t: 'delete', atMs: 5, taskId: '42' } as const;
    const bytes = encodeCommand(command);
    expect(bytes[0]).toBe(1);
    expect(decodeCommand(bytes)).toEqual(command);
    expect(() => decodeCommand(Uint8Array.of(9, 1, 2))).toThrow(/unknown command format 9/);
  });
});

describe('command results', () => {
  it("send a create's plain success in binary, and anything else as JSON", () => {
    const created: CommandResult = {
      ok: true,
      created: [
        { taskId: '9223372036854775807', created: true },
        { taskId: '12', created: false },
      ],
    };
    const bytes = encodeResult(created);
    expect(bytes[0]).toBe(2);
    expect(decodeResult(bytes)).toEqual(created);
    expect(() => decodeResult(bytes.subarray(0, bytes.length - 1))).toThrow(
      /create result of \d+ bytes is cut short/,
    );
    const mixed: CommandResult = {
      ok: true,
      created: [
        { taskId: '1', created: true },
        { error: 'idempotency_conflict', idempotencyKey: 'k', existingTaskId: '2' },
      ],
    };
    for (const result of [
      mixed,
      { ok: true } as const,
      { error: 'not_found', taskId: '3' } as const,
    ]) {
      const encoded = encodeResult(result);
      expect(encoded[0]).toBe(1);
      expect(decodeResult(encoded)).toEqual(result);
    }
  });
});
