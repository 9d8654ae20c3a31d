/**
 * The test harness of libs/raft (`@xcron/raft/testing`, as etcd ships rafttest): a seeded,
 * deterministic cluster simulation and a linearizability checker. Test-only.
 */
export * from './simulation';
export * from './linearizability';
export { DurableKvMachine } from './durable-kv-machine';
