import { DEFAULT_CONFIG_FILE, parseServerArgs } from './server.args';

describe('parseServerArgs', () => {
  it('defaults to ./xcron.toml', () => {
    expect(parseServerArgs([], {})).toEqual({ kind: 'run', configFile: DEFAULT_CONFIG_FILE });
    expect(DEFAULT_CONFIG_FILE).toBe('./xcron.toml');
  });

  it('takes XCRON_CONFIG when there is no --config, ignoring an empty one', () => {
    expect(parseServerArgs([], { XCRON_CONFIG: '/etc/xcron.toml' })).toEqual({
      kind: 'run',
      configFile: '/etc/xcron.toml',
    });
    expect(parseServerArgs([], { XCRON_CONFIG: '' })).toEqual({
      kind: 'run',
      configFile: DEFAULT_CONFIG_FILE,
    });
  });

  it.each([[['--config', 'a.toml']], [['--config=a.toml']], [['-c', 'a.toml']]])(
    'reads %j, over XCRON_CONFIG',
    (argv) => {
      expect(parseServerArgs(argv, { XCRON_CONFIG: 'env.toml' })).toEqual({
        kind: 'run',
        configFile: 'a.toml',
      });
    },
  );

  it('lets the last --config win', () => {
    expect(parseServerArgs(['--config', 'a.toml', '--config', 'b.toml'], {})).toEqual({
      kind: 'run',
      configFile: 'b.toml',
    });
  });

  it.each([
    [['--config'], '--config needs a file name'],
    [['--config='], '--config= needs a file name'],
    [['-c', ''], '-c needs a file name'],
    [['xcron.toml'], 'unknown argument "xcron.toml"'],
    [['--port', '1'], 'unknown argument "--port"'],
  ])('refuses %j', (argv, message) => {
    expect(parseServerArgs(argv, {})).toEqual({ kind: 'usage-error', message });
  });

  it('answers --help and -h', () => {
    expect(parseServerArgs(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseServerArgs(['--config', 'a', '-h'], {})).toEqual({ kind: 'help' });
  });
});
