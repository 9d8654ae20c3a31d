import fc from 'fast-check';
import type { ExecutionView } from '../task/task.model';
import { decodeExecution, encodeExecution } from './execution-codec';
import { decodeRecordCommand, encodeRecordCommand } from './record-command-codec';
import { decodeCommand, encodeCommand, type FireRecord } from './scheduler-command';

const record: fc.Arbitrary<FireRecord> = fc
  .record(
    {
      taskId: fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }).map(String),
      scheduledAtMs: fc.integer({ min: 0, max: 8.64e15 }),
      status: fc.constantFrom('succeeded', 'failed', 'skipped', 'expired'),
      httpStatus: fc.integer({ min: 100, max: 599 }),
      attempts: fc.integer({ min: 0, max: 1_000 }),
      durationMs: fc.oneof(
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
      ),
      node: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      finishedAtMs: fc.integer({ min: 0, max: 8.64e15 }),
      error: fc.string({ unit: 'grapheme', maxLength: 300 }),
      skipReason: fc.constantFrom('misfire', 'overlap', 'expired', 'ended'),
      manual: fc.constant(true),
      skipThroughMs: fc.integer({ min: 0, max: 8.64e15 }),
    },
    {
      requiredKeys: [
        'taskId',
        'scheduledAtMs',
        'status',
        'attempts',
        'durationMs',
        'node',
        'finishedAtMs',
      ],
    },
  )
  .map((r) => r as FireRecord);

describe('execution codec (binary fire outcomes)', () => {
  it('a record command gives back exactly its records, optional fields absent or present', () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 20 }),
        fc.integer({ min: 0, max: 8.64e15 }),
        (records, atMs) => {
          const bytes = encodeCommand({ t: 'record', atMs, records });
          expect(decodeCommand(bytes)).toEqual({ t: 'record', atMs, records });
        },
      ),
      { seed: 27, numRuns: 300 },
    );
  });

  it('a stored execution gives back the execution (a skip range end is not part of it)', () => {
    fc.assert(
      fc.property(record, (fire) => {
        const { skipThroughMs: _through, ...execution } = fire;
        expect(decodeExecution(fire.taskId, encodeExecution(fire))).toEqual(execution);
      }),
      { seed: 28, numRuns: 300 },
    );
  });

  it('reads executions stored as JSON before the binary format', () => {
    const stored: Omit<ExecutionView, 'taskId'> = {
      scheduledAtMs: 1_000,
      status: 'failed',
      httpStatus: 503,
      attempts: 3,
      durationMs: 12,
      node: 'n1',
      finishedAtMs: 2_000,
      error: 'HTTP 503',
    };
    const bytes = new TextEncoder().encode(JSON.stringify(stored));
    expect(decodeExecution('7', bytes)).toEqual({ taskId: '7', ...stored });
  });

  it('refuses truncated or trailing bytes, unknown codes and formats with a message', () => {
    const fire: FireRecord = {
      taskId: '42',
      scheduledAtMs: 1,
      status: 'failed',
      attempts: 1,
      durationMs: 2,
      node: 'n1',
      finishedAtMs: 3,
      error: 'connect ECONNREFUSED',
    };
    const bytes = encodeExecution(fire);
    expect(() => decodeExecution('42', bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => decodeExecution('42', Uint8Array.of(...bytes, 0))).toThrow(/trailing/);
    const badStatus = bytes.slice();
    badStatus[2] = 9;
    expect(() => decodeExecution('42', badStatus)).toThrow(/unknown code 9/);
    const command = encodeRecordCommand(5, [fire]);
    expect(() => decodeRecordCommand(command.subarray(0, command.length - 3))).toThrow(/truncated/);
    expect(() => decodeExecution('42', Uint8Array.of(7, 0))).toThrow(/unknown format 7/);
    expect(() => encodeRecordCommand(5, [{ ...fire, taskId: 'tâche' }])).toThrow(
      /cannot be recorded/,
    );
  });

  it('cuts an error message too long for its 16-bit length instead of refusing the record', () => {
    const fire: FireRecord = {
      taskId: '1',
      scheduledAtMs: 1,
      status: 'failed',
      attempts: 1,
      durationMs: 0,
      node: 'n1',
      finishedAtMs: 1,
      error: 'é'.repeat(70_000),
    };
    const [decoded] = decodeRecordCommand(encodeRecordCommand(1, [fire])).records;
    expect(decoded.error!.length).toBeLessThan(70_000);
    expect(decoded.error!.endsWith('…')).toBe(true);
  });
});
