import { Logger } from '@nestjs/common';
import type { SchedulerOptions } from '@xcron/scheduler';
import type { SchedulerModuleOptions } from '@xcron/scheduler/nest';
import type { XcronOptions } from '../config/config.schema';
import type { NodeIdentity } from './node-identity';

/** The node's scheduler options from xcron.toml, the resolved identity and the metrics hooks. */
export function schedulerOptionsFrom(
  options: XcronOptions,
  identity: NodeIdentity,
  metrics?: SchedulerOptions['metrics'],
): SchedulerModuleOptions {
  const logger = new Logger('Scheduler');
  return {
    nodeId: identity.nodeId,
    dataDir: options.raftDir,
    peerListenHost: options.peerListenHost,
    peerListenPort: options.peerPort,
    advertisedPeerAddress: identity.peerAddress,
    advertisedHttpAddress: identity.httpAddress,
    initialMembers: identity.initialMembers.map((member) => ({
      id: member.id,
      role: 'voter' as const,
      peerAddress: member.peerAddress,
    })),
    ...(options.clusterSecret !== '' ? { clusterSecret: options.clusterSecret } : {}),
    ...(identity.joining ? { joinExisting: true } : {}),
    ...(options.signingSecret !== '' ? { signingSecret: options.signingSecret } : {}),
    ...(options.allowedCallbackHosts.length > 0
      ? { allowedCallbackHosts: options.allowedCallbackHosts }
      : {}),
    raft: {
      tickMs: options.raftTickMs,
      snapshotEveryEntries: options.snapshotEveryEntries,
      snapshotEveryBytes: options.snapshotEveryBytes,
    },
    misfireThresholdMs: options.misfireThresholdMs,
    misfireMax: options.misfireMax,
    callbackBodyBytesMax: options.bodyLimitBytes,
    dispatchConcurrency: options.dispatchConcurrency,
    dispatchWarmUpRequests: options.dispatchWarmupRequests,
    shutdownDrainMs: options.shutdownDrainMs,
    ...(metrics !== undefined ? { metrics } : {}),
    logger: {
      log: (message) => logger.log(message),
      warn: (message) => logger.warn(message),
      error: (message) => logger.error(message),
    },
  };
}
