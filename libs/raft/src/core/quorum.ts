import type { NodeId } from './types';

/** The highest index stored on a majority of `voters`, given each voter's match index. */
export function majorityIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[Math.floor(voters.length / 2)];
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** Tally of an election among `voters`: won on a majority of grants, lost on a majority of rejections. */
export function tallyVotes(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteOutcome {
  const quorum = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted += 1;
    else if (vote === false) rejected += 1;
  }
  if (granted >= quorum) return 'won';
  if (rejected >= quorum) return 'lost';
  return 'pending';
}

export function isQuorum(
  voters: readonly NodeId[],
  acknowledged: (id: NodeId) => boolean,
): boolean {
  const quorum = Math.floor(voters.length / 2) + 1;
  return voters.filter(acknowledged).length >= quorum;
}
