/**
 * Nest injection token of the validated `XcronOptions`. Modules take the typed, frozen options
 * themselves (`@Inject(XCRON_CONFIG) options: XcronOptions`, with `import type` for the type)
 * rather than asking a config service for string keys at run time.
 */
export const XCRON_CONFIG = Symbol('XCRON_CONFIG');
