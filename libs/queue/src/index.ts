export { DiskQueue } from './disk-queue';
export type { AppendInput, QueueRecord, VerifyReport } from './disk-queue';
export type { DiskQueueOptions, QueueLogger, SyncMode } from './queue.options';
export { CorruptionError, QueueError, QueueErrorCode } from './queue.errors';
export { QUEUE_LIMITS } from './queue.constants';
export type { FileHandle, FileSystem, OpenMode } from './fs/file-system';
export { NodeFileSystem } from './fs/node-file-system';
export { SyncTimingFileSystem } from './fs/sync-timing-file-system';
