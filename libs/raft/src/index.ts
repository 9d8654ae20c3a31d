/**
 * libs/raft — consensus for xcron: the pure Raft core (`core/`), the peer transport
 * (`transport/`), durable storage (`storage/`) and the node driver that ties them together
 * (`node/`). Framework-free: nothing here imports Nest. The simulation harness is a separate entry
 * point, `@xcron/raft/testing`.
 */
export * from './core';
export * from './transport';
export * from './storage';
export * from './node';
