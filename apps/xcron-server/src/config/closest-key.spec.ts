import { closestKey, editDistance, suggestionFor } from './closest-key';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['http_port', 'http_port', 0],
    ['http_prot', 'http_port', 1], // a swap of neighbours is one edit
    ['htp_port', 'http_port', 1],
    ['http_portt', 'http_port', 1],
    ['kitten', 'sitting', 3],
  ])('%j → %j = %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestKey', () => {
  const known = [
    'env',
    'http_port',
    'http_host',
    'monitor_port',
    'peer_port',
    'body_limit_bytes',
    'peer.peer_hosts',
  ];

  it.each([
    ['http_prot', 'http_port'],
    ['monitor_prt', 'monitor_port'],
    ['evn', 'env'],
    ['ENV', 'env'],
    ['body_limit', 'body_limit_bytes'],
    ['peer_hosts', 'peer.peer_hosts'],
    ['peer.peer_host', 'peer.peer_hosts'],
    ['peer.http_port', 'http_port'],
  ])('%j → %j', (unknown, expected) => {
    expect(closestKey(unknown, known)).toBe(expected);
  });

  it.each(['port', 'cluster_secret', 'x', 'raft'])('suggests nothing for %j', (unknown) => {
    expect(closestKey(unknown, known)).toBeUndefined();
  });

  it('prefers the nearest of several candidates', () => {
    expect(closestKey('http_pos', ['http_post', 'http_port', 'http_pos_x'])).toBe('http_post');
  });
});

describe('suggestionFor', () => {
  it('phrases the hint by where the suggested key lives', () => {
    expect(suggestionFor('http_prot', 'http_port')).toBe('did you mean http_port?');
    expect(suggestionFor('peer.peer_host', 'peer.peer_hosts')).toBe('did you mean peer_hosts?');
    expect(suggestionFor('peer_hosts', 'peer.peer_hosts')).toBe(
      'did you mean peer_hosts in the [peer] table?',
    );
    expect(suggestionFor('peer.http_port', 'http_port')).toBe(
      'did you mean http_port? It belongs before the first [table] header',
    );
  });
});
