/** Error codes of the disk queue; every error it throws on purpose is a QueueError with one of them. */
export enum QueueErrorCode {
  Corruption = 'QUEUE_CORRUPTION',
  RecordTooLarge = 'QUEUE_RECORD_TOO_LARGE',
  BatchTooLarge = 'QUEUE_BATCH_TOO_LARGE',
  SequenceOutOfOrder = 'QUEUE_SEQUENCE_OUT_OF_ORDER',
  Compacted = 'QUEUE_COMPACTED',
  InvalidArgument = 'QUEUE_INVALID_ARGUMENT',
  Overloaded = 'QUEUE_OVERLOADED',
  Closed = 'QUEUE_CLOSED',
  Failed = 'QUEUE_FAILED',
}

export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QueueError';
  }
}

/** Bad bytes before the tail of the queue: never skipped, always reported with file and offset. */
export class CorruptionError extends QueueError {
  constructor(
    readonly filePath: string,
    readonly offsetBytes: number,
    readonly reason: string,
  ) {
    super(
      QueueErrorCode.Corruption,
      `corrupt data in ${filePath} at byte ${offsetBytes}: ${reason}`,
    );
    this.name = 'CorruptionError';
  }
}

export function invalidArgument(message: string): QueueError {
  return new QueueError(QueueErrorCode.InvalidArgument, message);
}
