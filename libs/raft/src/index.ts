/**
 * libs/raft — consensus for xcron: the pure Raft core (`core/`), the peer transport
 * (`transport/`) and, later, the node driver. Framework-free: nothing here imports Nest.
 * The simulation harness is a separate entry point, `@xcron/raft/testing`.
 */
export * from './core';
export * from './transport';
