import { CancelSignal } from './cancel-signal';

describe('CancelSignal', () => {
  it('runs each listener once, at the first cancel, and none removed before it', () => {
    const signal = new CancelSignal();
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    const b = (): void => void calls.push('b');
    signal.addEventListener('abort', a);
    signal.addEventListener('abort', b);
    signal.removeEventListener('abort', a);
    expect(signal.aborted).toBe(false);
    signal.cancel();
    signal.cancel();
    expect(signal.aborted).toBe(true);
    expect(calls).toEqual(['b']);
  });

  it('runs the listeners in the order they were added, also after some were removed', () => {
    const signal = new CancelSignal();
    const calls: string[] = [];
    const listener = (name: string) => (): void => void calls.push(name);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(listener);
    signal.addEventListener('abort', a);
    signal.addEventListener('abort', b);
    signal.removeEventListener('abort', a);
    signal.addEventListener('abort', c);
    signal.removeEventListener('abort', b);
    signal.addEventListener('abort', d);
    signal.cancel();
    expect(calls).toEqual(['c', 'd']);
  });

  it('never runs a listener added after the cancel (as an AbortSignal does not)', () => {
    const signal = new CancelSignal();
    signal.cancel();
    const late = jest.fn();
    signal.addEventListener('abort', late);
    signal.removeEventListener('abort', late);
    expect(late).not.toHaveBeenCalled();
  });
});
