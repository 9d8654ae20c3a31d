/**
 * Why the configuration cannot be used. Thrown only while loading, before the node starts, so the
 * process can print the message (which names the file and, where there is one, the key) and exit
 * with status 2 instead of running with a setting the operator did not mean.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    message: string,
    /** The config file as the operator named it (not resolved), so messages match what they typed. */
    readonly file: string,
    /** The dotted TOML key at fault (`http_port`, `peer.peer_hosts`), when the fault is one key. */
    readonly key?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
