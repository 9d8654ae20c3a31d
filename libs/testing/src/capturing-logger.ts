/**
 * Keeps what a component logs (`info`/`warn`/`error`, each line prefixed with its level), for
 * assertions on it. Structurally a RaftNodeLogger and a QueueLogger.
 */
export class CapturingLogger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}
