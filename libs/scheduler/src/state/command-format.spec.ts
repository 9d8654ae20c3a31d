import { COMMAND_FORMAT, RESULT_FORMAT } from './command-format';
import { decodeCommand, encodeCommand } from './scheduler-command';

describe('command formats', () => {
  it('give every encoding its own first byte', () => {
    for (const formats of [COMMAND_FORMAT, RESULT_FORMAT]) {
      const bytes = Object.values(formats);
      expect(new Set(bytes).size).toBe(bytes.length);
    }
  });

  it('tag each command kind with its format byte, and decode it back', () => {
    const record = encodeCommand({ t: 'record', atMs: 1, records: [] });
    const create = encodeCommand({ t: 'create', atMs: 1, tasks: [] });
    const pause = encodeCommand({ t: 'pause', atMs: 1, taskId: '7' });
    expect([record[0], create[0], pause[0]]).toEqual([
      COMMAND_FORMAT.record,
      COMMAND_FORMAT.createV3,
      COMMAND_FORMAT.json,
    ]);
    expect(decodeCommand(record)).toEqual({ t: 'record', atMs: 1, records: [] });
    expect(decodeCommand(pause)).toEqual({ t: 'pause', atMs: 1, taskId: '7' });
  });
});
