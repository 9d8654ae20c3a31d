/** The command line of xcron-server, parsed without side effects so it can be unit-tested. */

export const DEFAULT_CONFIG_FILE = './xcron.toml';

export const USAGE = `usage: xcron-server [--config FILE]

  -c, --config FILE   the xcron.toml to load (default: $XCRON_CONFIG, else ${DEFAULT_CONFIG_FILE})
  -h, --help          print this help`;

export type ServerArgs =
  | { readonly kind: 'run'; readonly configFile: string }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage-error'; readonly message: string };

/** `--config` wins over `XCRON_CONFIG`, which wins over `./xcron.toml`. */
export function parseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ServerArgs {
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '-c' || arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value === '')
        return { kind: 'usage-error', message: `${arg} needs a file name` };
      configFile = value;
      i++;
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
      if (configFile === '') return { kind: 'usage-error', message: '--config= needs a file name' };
    } else {
      return { kind: 'usage-error', message: `unknown argument ${JSON.stringify(arg)}` };
    }
  }
  const fromEnv = env['XCRON_CONFIG'];
  return {
    kind: 'run',
    configFile:
      configFile ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG_FILE),
  };
}
