/**
 * Errors of the scheduler's public face. Each names the problem in words a client can act on; the
 * HTTP layer maps them to the seed's codes and /v1's statuses by class and `reason`, never by
 * message text.
 */

/** Which rule a task definition broke. The seed's codes follow from it (see the API's mapping). */
export type InvalidTaskReason =
  | 'request_invalid' // not an object, a field of the wrong type, an unknown field
  | 'time_format_invalid' // a one-shot time that is not unix seconds / RFC 3339 / a number
  | 'time_value_invalid' // a time in the past, out of range, or end before start
  | 'callback_url_invalid' // missing, not http(s), or a host outside the allow-list
  | 'cron_invalid' // a crontab that does not parse, or with the wrong number of fields
  | 'timezone_invalid' // not an IANA zone
  | 'type_unsupported' // a seed `type` other than 1 or 2
  | 'body_too_large'; // a callback body or headers over the limit

export class InvalidTaskError extends Error {
  constructor(
    readonly reason: InvalidTaskReason,
    /** The offending field, dotted (`callback.url`), when there is one. */
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTaskError';
  }
}

export class TaskNotFoundError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} does not exist`);
    this.name = 'TaskNotFoundError';
  }
}

/** The idempotency key is taken by a task with other parameters. */
export class IdempotencyConflictError extends Error {
  constructor(
    readonly idempotencyKey: string,
    readonly existingTaskId: string,
  ) {
    super(
      `idempotency_key ${JSON.stringify(idempotencyKey)} belongs to task ${existingTaskId}, created with other parameters`,
    );
    this.name = 'IdempotencyConflictError';
  }
}

/** The operation does not apply to the task in its current state (e.g. resume a completed task). */
export class TaskStateConflictError extends Error {
  constructor(
    readonly taskId: string,
    message: string,
  ) {
    super(message);
    this.name = 'TaskStateConflictError';
  }
}

/** No leader is known, or the cluster did not commit in time: the write may be retried. */
export class ClusterUnavailableError extends Error {
  constructor(
    message: string,
    /** The leader's HTTP address, when one is known (a client may go there). */
    readonly leaderHttpAddress?: string,
  ) {
    super(message);
    this.name = 'ClusterUnavailableError';
  }
}
