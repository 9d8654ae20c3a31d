import type { TaskSpec } from '../task/task.model';
import {
  decodeDelivery,
  decodeFireDelivery,
  decodeRow,
  deliveryJson,
  encodeDelivery,
  encodeRow,
  idBytes,
  idFromKey,
  jsonValueEnd,
  taskKey,
  FAMILY,
  type TaskRow,
} from './state-store-codec';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

function oneShot(overrides: Partial<TaskRow> = {}): TaskRow {
  return {
    status: 0,
    policyBits: 0,
    cron: undefined,
    runAtMs: T0 + 60_000,
    nextFireAtMs: T0 + 60_000,
    createdAtMs: T0,
    updatedAtMs: T0,
    endedAtMs: Number.NaN,
    runCount: 0,
    failureCount: 0,
    historyCount: 0,
    extra: undefined,
    ...overrides,
  };
}

function crontab(overrides: Partial<TaskRow> = {}): TaskRow {
  return oneShot({
    cron: { kind: 'cron', expression: '*/5 * * * * *' },
    runAtMs: Number.NaN,
    nextFireAtMs: T0 + 5_000,
    ...overrides,
  });
}

const EVERY_EXTRA = {
  startAtMs: T0 + 1,
  endAtMs: T0 + 86_400_000,
  expireAtMs: T0 + 3_600_000,
  jitterMs: 250,
  idempotencyKey: 'key-é-✓',
  recordedAhead: [T0 + 10_000, T0 + 20_000],
  manualFires: [T0 + 7],
};

describe('state store codec', () => {
  describe('rows', () => {
    it.each<[string, TaskRow]>([
      ['a plain pending one-shot', oneShot()],
      [
        'a one-shot with every optional field',
        oneShot({
          status: 2,
          policyBits: 2 | (1 << 2),
          nextFireAtMs: Number.NaN,
          updatedAtMs: T0 + 5,
          endedAtMs: T0 + 60_010,
          runCount: 3,
          failureCount: 2,
          historyCount: 4_000_000_000,
          extra: EVERY_EXTRA,
        }),
      ],
      ['a one-shot whose next fire is not its time', oneShot({ nextFireAtMs: T0 + 1 })],
      ['a plain crontab', crontab()],
      [
        'a crontab with every optional field',
        crontab({
          cron: { kind: 'cron', expression: '0 9 * * MON-FRI', timezone: 'Europe/Paris' },
          status: 1,
          policyBits: 1 | (2 << 2),
          updatedAtMs: T0 + 9,
          endedAtMs: T0 + 99,
          runCount: 1,
          extra: EVERY_EXTRA,
        }),
      ],
      ['a crontab without a next fire', crontab({ nextFireAtMs: Number.NaN })],
      [
        'fractional and negative times',
        oneShot({ createdAtMs: -1.5, runAtMs: 0, nextFireAtMs: 0 }),
      ],
    ])('round-trips %s', (_name, row) => {
      expect(decodeRow(encodeRow(row))).toEqual(row);
      // Also from a view into a bigger buffer (the store hands out subarrays).
      const bytes = encodeRow(row);
      const padded = new Uint8Array(bytes.length + 7);
      padded.set(bytes, 3);
      expect(decodeRow(padded.subarray(3, 3 + bytes.length))).toEqual(row);
    });

    it('drops empty lists of the extra (they mean none)', () => {
      const row = oneShot({ extra: { jitterMs: 5, recordedAhead: [], manualFires: [] } });
      expect(decodeRow(encodeRow(row)).extra).toEqual({ jitterMs: 5 });
    });

    it('keeps a plain pending one-shot within 24 bytes', () => {
      expect(encodeRow(oneShot()).length).toBeLessThanOrEqual(24);
      // Rescheduled by an update: one more time.
      expect(encodeRow(oneShot({ updatedAtMs: T0 + 1 })).length).toBeLessThanOrEqual(32);
      // A plain crontab: its expression, no more.
      expect(encodeRow(crontab()).length).toBeLessThanOrEqual(13 + 8 + 40);
    });

    it.each<[string, Uint8Array, RegExp]>([
      ['empty bytes', new Uint8Array(0), /unknown format/],
      ['too short', Uint8Array.of(1, 0, 0, 0, 0), /unknown format/],
      ['an unknown format', Uint8Array.of(9, ...new Uint8Array(20)), /unknown format 9/],
      [
        'trailing bytes',
        (() => {
          const row = encodeRow(oneShot());
          const out = new Uint8Array(row.length + 3);
          out.set(row);
          return out;
        })(),
        /3 unexpected trailing bytes/,
      ],
      [
        'neither a time nor a crontab',
        Uint8Array.of(1, 0, 0, 0, 0, ...new Uint8Array(8)),
        /neither a one-shot time nor a crontab/,
      ],
      [
        'a row cut short',
        encodeRow(oneShot({ updatedAtMs: T0 + 1, runCount: 1 })).subarray(0, 30),
        /cut short/,
      ],
      [
        'a tail that is JSON but not an object',
        (() => {
          const row = encodeRow(oneShot({ extra: { jitterMs: 1 } }));
          const head = row.subarray(0, row.length - '{"j":1}'.length);
          return Uint8Array.from([...head, ...new TextEncoder().encode('null')]);
        })(),
        /malformed tail/,
      ],
      [
        'a tail that is not JSON',
        (() => {
          const row = encodeRow(crontab());
          row[row.length - 1] = 0x7b; // '{'
          return row;
        })(),
        /JSON/,
      ],
    ])('rejects %s with a message', (_name, bytes, message) => {
      expect(() => decodeRow(bytes)).toThrow(message);
    });
  });

  describe('deliveries', () => {
    const base: TaskSpec = {
      schedule: { kind: 'once', runAtMs: T0 },
      callback: { url: 'https://example.test/hook', body: { a: [1, 2, { b: null }] } },
      timeoutMs: 10_000,
      retry: { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000 },
      jitterMs: 0,
      overlap: 'allow',
      misfire: 'fire_once',
    };

    it('leaves out the baseline timeout and retry', () => {
      const bytes = encodeDelivery(base);
      const text = new TextDecoder().decode(bytes.subarray(1));
      expect(JSON.parse(text)).toEqual([base.callback.url, base.callback.body]);
      expect(decodeDelivery(bytes)).toEqual({
        callback: base.callback,
        timeoutMs: 10_000,
        retry: base.retry,
      });
    });

    it('round-trips headers, name, timeout and retry', () => {
      const spec: TaskSpec = {
        ...base,
        name: 'nightly ✓',
        callback: { ...base.callback, headers: { authorization: 'Bearer x', 'x-a': '' } },
        timeoutMs: 2_500,
        retry: { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 30_000 },
      };
      expect(decodeDelivery(encodeDelivery(spec))).toEqual({
        name: spec.name,
        callback: spec.callback,
        timeoutMs: spec.timeoutMs,
        retry: spec.retry,
      });
      expect(encodeDelivery(spec).length).toBeGreaterThan(encodeDelivery(base).length);
    });

    it("writes the same text from a body JSON made before (the size check's) as from the body", () => {
      const withRest: TaskSpec = {
        ...base,
        name: 'n',
        callback: { ...base.callback, headers: { 'x-a': 'b' } },
        timeoutMs: 2_500,
      };
      for (const spec of [base, withRest])
        for (const body of [base.callback.body, 'tëxt "quoted"', 42, null, undefined, []]) {
          const s = { ...spec, callback: { ...spec.callback, body } };
          expect(deliveryJson(s, JSON.stringify(body ?? null))).toBe(deliveryJson(s));
        }
    });

    it('keeps a body that is a string, a number, or absent (null)', () => {
      for (const body of ['text', 42, null, [], false])
        expect(
          decodeDelivery(encodeDelivery({ ...base, callback: { url: 'u', body } })).callback,
        ).toEqual({ url: 'u', body });
    });

    it.each<[string, Uint8Array, RegExp]>([
      ['empty bytes', new Uint8Array(0), /unknown format/],
      ['an unknown format', Uint8Array.of(7, 0x5b, 0x5d), /unknown format 7/],
      ['a body that is not JSON', Uint8Array.of(1, 0x5b, 0x22), /JSON/],
      ['JSON that is not a delivery', Uint8Array.of(1, 0x34, 0x32), /malformed/],
      ['a delivery without a URL', Uint8Array.of(1, 0x5b, 0x31, 0x5d), /malformed/],
    ])('rejects %s with a message', (_name, bytes, message) => {
      expect(() => decodeDelivery(bytes)).toThrow(message);
    });
  });

  describe('fire deliveries (the body kept as its stored JSON text)', () => {
    const url = 'http://127.0.0.1:9/hook?a="b"&c=\\d';
    const bodies: unknown[] = [
      { data: 'x'.repeat(48) },
      'a "quoted" ], }, \\ string',
      42,
      -1.5e-7,
      null,
      true,
      false,
      [],
      {},
      [1, [2, [3, { a: ']' }]], '}'],
      { nested: { 'k,ey': ['v', { '"': '\\"' }] }, u: 'ünïcødé ✓ \u2028' },
    ];
    const rests: Partial<TaskSpec>[] = [
      {},
      { name: 'n', timeoutMs: 2_500 },
      { retry: { maxAttempts: 1, initialBackoffMs: 0, maxBackoffMs: 0 } },
    ];

    it.each(bodies.map((body) => [JSON.stringify(body), body]))(
      'gives the body %s as JSON.stringify made it, and the rest as decodeDelivery',
      (_name, body) => {
        for (const rest of rests)
          for (const headers of [undefined, { 'x-a': 'b,]}' }]) {
            const spec = {
              callback: { url, body, ...(headers !== undefined ? { headers } : {}) },
              timeoutMs: 10_000,
              retry: { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000 },
              ...rest,
            };
            const bytes = encodeDelivery(spec);
            const full = decodeDelivery(bytes);
            expect(decodeFireDelivery(bytes)).toEqual({
              url,
              bodyJson: JSON.stringify(body),
              ...(headers !== undefined ? { headers } : {}),
              timeoutMs: full.timeoutMs,
              retry: full.retry,
            });
          }
      },
    );

    it('finds the end of a JSON value in compact JSON, or -1 when the text ends first', () => {
      expect(jsonValueEnd('"a\\"b",1', 0)).toBe(6);
      expect(jsonValueEnd('[1,[2]],3', 0)).toBe(7);
      expect(jsonValueEnd('12,3', 0)).toBe(2);
      expect(jsonValueEnd('true]', 0)).toBe(4);
      expect(jsonValueEnd('{"a":"}"}', 0)).toBe(9);
      expect(jsonValueEnd('"unterminated', 0)).toBe(-1);
      expect(jsonValueEnd('[1,2', 0)).toBe(-1);
    });

    it.each<[string, Uint8Array, RegExp]>([
      ['empty bytes', new Uint8Array(0), /unknown format/],
      ['an unknown format', Uint8Array.of(7, 0x5b, 0x5d), /unknown format 7/],
      [
        'a delivery without a URL',
        Uint8Array.of(1, 0x5b, 0x31, 0x5d),
        /malformed: no callback URL/,
      ],
      [
        'a URL without a body',
        new TextEncoder().encode('\x01["u"]'),
        /malformed: no callback body/,
      ],
      ['a cut body', new TextEncoder().encode('\x01["u",{"a":1'), /malformed: no callback body/],
    ])('rejects %s with a message', (_name, bytes, message) => {
      expect(() => decodeFireDelivery(bytes)).toThrow(message);
    });
  });

  describe('keys', () => {
    it('encodes ids as 8 bytes big-endian, so keys sort like ids', () => {
      const ids = ['0', '1', '255', '256', '9999999999', '10000000000', '9223372036854775807'];
      const keys = ids.map((id) => taskKey(FAMILY.row, idBytes(id)));
      for (let i = 0; i < ids.length; i++) {
        expect(keys[i].length).toBe(9);
        expect(idFromKey(keys[i])).toBe(ids[i]);
        if (i > 0) expect(Buffer.compare(keys[i - 1], keys[i])).toBe(-1);
      }
    });
  });
});
