import type { RaftStatus } from '../../core/raft';
import { EntryType, type Entry, type NodeId } from '../../core/types';
import type { SimNode } from './sim-node';

const decoder = new TextDecoder();

function entryKey(entry: Entry): string {
  return `${entry.term}/${entry.type}/${decoder.decode(entry.data)}`;
}

/**
 * The Raft safety properties (Figure 3 of the paper), checked as the simulation runs:
 * - election safety: at most one leader per term;
 * - log matching: two logs with an entry of the same index and term agree on everything before;
 * - leader completeness: a new leader holds every entry committed before its term;
 * - state machine safety: no two nodes apply different entries at one index;
 * - no acknowledged proposal is lost: what a client was told committed stays at its index.
 * `fail` is called with a readable reason at the first violation.
 */
export class SafetyChecker {
  private readonly leadersByTerm = new Map<number, NodeId>();
  private readonly committed = new Map<number, string>();
  private readonly appliedAt = new Map<number, { node: NodeId; key: string }>();
  private readonly lastApplied = new Map<NodeId, number>();
  private readonly checkedCommit = new Map<NodeId, number>();
  private readonly leaderChecked = new Set<string>();
  private readonly acknowledged = new Map<number, string>();
  private readonly appliedLists = new Map<NodeId, Entry[]>();
  private readonly committedConfIndexes = new Set<number>();
  highestCommitted = 0;

  constructor(private readonly fail: (reason: string) => never) {}

  get membershipChangesCommitted(): number {
    return this.committedConfIndexes.size;
  }

  nodeStarted(id: NodeId, appliedIndex: number): void {
    this.lastApplied.set(id, appliedIndex);
    this.checkedCommit.set(id, 0);
  }

  nodeCrashed(id: NodeId): void {
    this.checkedCommit.delete(id);
  }

  observe(node: SimNode, status: RaftStatus): void {
    if (status.role === 'leader') this.checkLeader(node, status);
    this.checkCommitted(node, status);
  }

  applied(id: NodeId, entry: Entry): void {
    const last = this.lastApplied.get(id) ?? 0;
    if (entry.index !== last + 1)
      this.fail(`${id} applied ${entry.index} after ${last} (out of order)`);
    this.lastApplied.set(id, entry.index);
    const key = entryKey(entry);
    const earlier = this.appliedAt.get(entry.index);
    if (earlier === undefined) this.appliedAt.set(entry.index, { node: id, key });
    else if (earlier.key !== key) {
      this.fail(
        `state machine safety: ${id} applied ${key} at ${entry.index}, ${earlier.node} applied ${earlier.key}`,
      );
    }
    let list = this.appliedLists.get(id);
    if (list === undefined) this.appliedLists.set(id, (list = []));
    list.push(entry);
  }

  snapshotInstalled(id: NodeId, index: number): void {
    this.lastApplied.set(id, index);
  }

  /** A client was told its proposal committed at (index, term) with this data. */
  acknowledge(entry: Entry): void {
    const key = entryKey(entry);
    this.acknowledged.set(entry.index, key);
    const committed = this.committed.get(entry.index);
    if (committed !== undefined && committed !== key) {
      this.fail(`acknowledged ${key} at ${entry.index}, but ${committed} is committed there`);
    }
  }

  /** At the end: every acknowledged proposal is what the cluster applied at its index. */
  checkAcknowledgedApplied(): void {
    for (const [index, key] of this.acknowledged) {
      const applied = this.appliedAt.get(index);
      if (applied === undefined) this.fail(`acknowledged ${key} at ${index} was never applied`);
      if (applied.key !== key)
        this.fail(`acknowledged ${key} at ${index} lost: ${applied.node} applied ${applied.key}`);
    }
  }

  /** Log matching over every pair of live nodes (quadratic: call it now and then). */
  checkLogMatching(nodes: readonly SimNode[]): void {
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) this.checkPair(nodes[a], nodes[b]);
    }
  }

  appliedBy(id: NodeId): Entry[] {
    return [...(this.appliedLists.get(id) ?? [])];
  }

  private checkPair(x: SimNode, y: SimNode): void {
    const low = Math.max(x.core.log.firstIndex, y.core.log.firstIndex);
    const high = Math.min(x.core.log.lastIndex, y.core.log.lastIndex);
    let matchedAt = -1;
    for (let i = high; i >= low; i--) {
      if (x.core.log.termAt(i) === y.core.log.termAt(i)) {
        matchedAt = i;
        break;
      }
    }
    for (let i = low; i <= matchedAt; i++) {
      const ex = x.core.log.entryAt(i);
      const ey = y.core.log.entryAt(i);
      if (ex && ey && entryKey(ex) !== entryKey(ey)) {
        this.fail(
          `log matching: ${x.id} and ${y.id} agree at ${matchedAt} but differ at ${i} (${entryKey(ex)} vs ${entryKey(ey)})`,
        );
      }
    }
  }

  private checkLeader(node: SimNode, status: RaftStatus): void {
    const other = this.leadersByTerm.get(status.term);
    if (other !== undefined && other !== node.id)
      this.fail(`election safety: ${other} and ${node.id} both lead term ${status.term}`);
    this.leadersByTerm.set(status.term, node.id);
    const marker = `${node.id}@${status.term}`;
    if (this.leaderChecked.has(marker)) return;
    this.leaderChecked.add(marker);
    // Leader completeness: every entry committed so far is in the new leader's log.
    for (const [index, key] of this.committed) {
      if (index < node.core.log.firstIndex) continue;
      const entry = node.core.log.entryAt(index);
      if (entry === undefined || entryKey(entry) !== key) {
        this.fail(
          `leader completeness: ${node.id} leads term ${status.term} without committed entry ${key} at ${index}`,
        );
      }
    }
  }

  private checkCommitted(node: SimNode, status: RaftStatus): void {
    const from = this.checkedCommit.get(node.id) ?? 0;
    if (status.commit <= from) return;
    for (let i = Math.max(from + 1, node.core.log.firstIndex); i <= status.commit; i++) {
      const entry = node.core.log.entryAt(i);
      if (entry === undefined) continue;
      const key = entryKey(entry);
      const known = this.committed.get(i);
      if (known === undefined) {
        this.committed.set(i, key);
        if (entry.type === EntryType.ConfChange) this.committedConfIndexes.add(i);
        const acknowledged = this.acknowledged.get(i);
        if (acknowledged !== undefined && acknowledged !== key)
          this.fail(`acknowledged ${acknowledged} at ${i}, but ${key} committed`);
      } else if (known !== key) {
        this.fail(`${node.id} committed ${key} at ${i}, but ${known} was committed there before`);
      }
    }
    this.highestCommitted = Math.max(this.highestCommitted, status.commit);
    this.checkedCommit.set(node.id, status.commit);
  }
}
