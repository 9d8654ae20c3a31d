export { Simulation, SimulationFailure } from './simulation';
export type { SimulationCounts, SimulationOptions } from './simulation';
export { runChaos } from './chaos';
export type { ChaosOptions, ChaosReport } from './chaos';
export { RELIABLE_NETWORK } from './sim-network';
export type { NetworkFaults } from './sim-network';
export type { ProposalHandle, ProposalOutcome, ReadHandle } from './sim-node';
export { KvStateMachine, encodeKvWrite } from './kv-state-machine';
export type { KvWrite } from './kv-state-machine';
