// Jest runs TypeScript and the ESM-only @nestjs packages through swc (see TOOLCHAIN.md, gotcha 1).
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
  },
];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|cookie)/)'],
  moduleNameMapper: {
    '^@xcron/([a-z-]+)$': '<rootDir>/libs/$1/src',
    '^@xcron/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  testTimeout: 30000,
  // Two workers on the two cores: most e2e and integration time is spent waiting on node
  // processes, fsyncs and due times, so running two suites at once halves the wall time
  // (~320 s serially, ~190 s with two, on this machine under load).
  maxWorkers: 2,
};
