/**
 * Test-only helpers shared by the libraries' specs and simulations (`@xcron/testing`). Nothing in
 * production code may import this.
 */
export { SeededRandom } from './seeded-random';
export { freePorts } from './free-ports';
export { CapturingLogger } from './capturing-logger';
