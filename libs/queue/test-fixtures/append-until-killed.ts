/**
 * Child process of kill-recovery.spec.ts: appends with sync `always` from several concurrent
 * appenders until it is SIGKILLed, printing `synced <seq>` for every append whose promise resolved
 * (i.e. that the queue acknowledged as durable). Payloads are derived from the sequence so the parent
 * can check every byte after recovery.
 */
import { DiskQueue } from '../src/index';
import { payloadForSeq } from './payload-for-seq';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const queue = await DiskQueue.open(dir, { syncMode: 'always', segmentBytes: 64 * 1024 });
  let next = queue.lastSeq + 1;
  process.stdout.write(`ready ${queue.lastSeq}\n`);
  const appender = async (): Promise<never> => {
    while (true) {
      const seq = next++;
      await queue.append(payloadForSeq(seq), seq);
      process.stdout.write(`synced ${seq}\n`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, appender));
}

void main();
