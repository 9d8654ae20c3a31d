/**
 * Linearizability checking for the Raft simulation (`@xcron/raft/testing/linearizability`): a
 * porcupine-style checker, the model interface it checks against, and the key–value model.
 */
export { UNKNOWN_OUTPUT } from './model';
export type {
  CompletedOperation,
  LostOperation,
  Model,
  Operation,
  StepResult,
  UnknownOutput,
} from './model';
export { DEFAULT_MAX_STEPS, checkOperations, describeFailure } from './check-linearizability';
export type {
  BlockedCandidate,
  CheckIllegal,
  CheckOk,
  CheckOptions,
  CheckResult,
  CheckUnknown,
  DescribeOptions,
  PartitionFailure,
} from './check-linearizability';
export { kvModel } from './kv-model';
export type {
  KvGetOutput,
  KvInput,
  KvOperation,
  KvOutput,
  KvState,
  KvWriteOutput,
} from './kv-model';
