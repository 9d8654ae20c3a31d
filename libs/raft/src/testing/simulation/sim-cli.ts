/**
 * `npm run sim:raft -- --seeds N [--from S] [--duration-ms D] [--profile chaos|figure8|elections|diskLoss] [--bug NAME]`
 * runs N seeds of a randomized profile (default chaos); `-- --seed S` runs one. A failure prints its seed and trace and exits 1.
 * `--bug` turns on one injected bug (commitPreviousTermEntries, forgetVote, readWithoutReadIndex,
 * applyBeforePersist) to see how fast the simulation catches it. `--durable` runs the profile with
 * durable state machines (RaftNode's durable-state mode: the state machine's database is the
 * snapshot).
 */
import type { InjectedBugs } from '../../core/types';
import { runChaos } from './chaos';
import { chaosProfile, diskLossProfile, electionsProfile, figure8Profile } from './chaos-profile';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function main(): void {
  const single = argument('seed');
  const from = Number(single ?? argument('from') ?? 1);
  const count = single !== undefined ? 1 : Number(argument('seeds') ?? 100);
  const durationMs =
    argument('duration-ms') === undefined ? undefined : Number(argument('duration-ms'));
  const bug = argument('bug');
  const bugs: InjectedBugs | undefined = bug ? { [bug]: true } : undefined;
  const profiles = {
    chaos: chaosProfile,
    figure8: figure8Profile,
    elections: electionsProfile,
    diskLoss: diskLossProfile,
  };
  const profileName = (argument('profile') ?? 'chaos') as keyof typeof profiles;
  const profile = profiles[profileName];
  if (profile === undefined)
    throw new Error(`unknown profile ${profileName}: use chaos, figure8, elections or diskLoss`);
  const durable = process.argv.includes('--durable');
  const started = Date.now();
  let failures = 0;
  for (let seed = from; seed < from + count; seed++) {
    try {
      const report = runChaos({
        ...profile(seed, durationMs, bugs),
        ...(durable ? { durableStateMachine: true } : {}),
      });
      const c = report.counts;
      console.log(
        `seed ${seed} ok: ${report.operations} ops (${report.acknowledgedWrites} writes, ${report.reads} reads), ` +
          `${c.leaderChanges} leaders, ${c.crashes} crashes, ${c.partitions} partitions, ${c.snapshotsInstalled} snapshot installs, ` +
          `${c.membershipChanges} membership changes, ${c.leaderTransfers} transfers, ${c.messagesDropped} drops, ${c.unsyncedCommitsLost} unsynced commits lost, ` +
          `${c.leaderDownReports} early campaigns on a crashed leader, ${c.falseLeaderDownReports} on a false alarm`,
      );
    } catch (error) {
      failures += 1;
      console.log(
        String(
          error instanceof Error
            ? error.name === 'SimulationFailure'
              ? error.message
              : error.stack
            : error,
        ),
      );
      if (bugs === undefined) process.exitCode = 1;
      if (bugs !== undefined && !process.argv.includes('--all')) break;
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${count} seed(s) from ${from}, ${failures} failed, ${seconds} s`);
  if (bugs !== undefined && failures === 0) process.exitCode = 1; // an injected bug must be caught
}

main();
