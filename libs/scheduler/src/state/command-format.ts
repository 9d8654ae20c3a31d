/**
 * The first byte of every encoded command and of every encoded result: which encoding follows.
 * All in one place, so that two codecs never claim the same byte; a value once used in a
 * released log stays taken (old entries are still in Raft logs and journals).
 */
export const COMMAND_FORMAT = {
  /** Any command as JSON (scheduler-command.ts). */
  json: 1,
  /** A create, binary, timing as JSON (create-command-codec.ts; still decoded). */
  createV2: 2,
  /** A create, binary throughout (create-command-codec.ts). */
  createV3: 3,
  /** A record (fire outcomes), binary (record-command-codec.ts). */
  record: 4,
} as const;

export const RESULT_FORMAT = {
  /** Any result as JSON (scheduler-command.ts). */
  json: 1,
  /** A create's plain success, binary (create-command-codec.ts). */
  create: 2,
} as const;
