/**
 * Test harness of the queue library (`@xcron/queue/testing`): doubles and helpers meant for specs
 * and simulations, never for production code.
 */
export { SeededRandom } from '@xcron/testing';
export { SimulatedFileSystem } from './simulated-file-system';
export type {
  DiskView,
  FaultOptions,
  FileSystemSnapshot,
  KeepUnsynced,
  PowerLossOptions,
  SimulatedFileSystemError,
  SimulatedFileSystemOptions,
  SimulatedOperation,
  TornTail,
} from './simulated-file-system';
