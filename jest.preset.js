import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = dirname(fileURLToPath(import.meta.url));

const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

/**
 * One Jest configuration for every workspace: native ESM mode (Nest 12 is ESM-only), TypeScript through
 * swc, workspace packages resolved to their sources so tests never depend on a previous build.
 * Two projects keep the tiers apart: `unit` (*.spec.ts) and `integration` (*.int-spec.ts, real
 * PostgreSQL and RabbitMQ).
 */
export function jestConfig(packageConfigUrl) {
  const rootDir = dirname(fileURLToPath(packageConfigUrl));
  const common = {
    rootDir,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    transform: { '^.+\\.ts$': swcTransform },
    moduleNameMapper: {
      // The sandboxes are apps with typed control clients that tests import; Jest takes the first match.
      '^@inbox-bridge/(hubspot-sandbox|provider-sandbox)$': resolve(repoRoot, 'apps/$1/src/index.ts'),
      '^@inbox-bridge/([a-z-]+)$': resolve(repoRoot, 'packages/$1/src/index.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    modulePathIgnorePatterns: ['<rootDir>/dist/'],
  };
  return {
    projects: [
      {
        ...common,
        displayName: 'unit',
        testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
      },
      {
        ...common,
        displayName: 'integration',
        testMatch: ['<rootDir>/src/**/*.int-spec.ts', '<rootDir>/test/**/*.int-spec.ts'],
      },
    ],
    // Integration suites wait for real brokers and databases; unit tests finish far below this.
    testTimeout: 60_000,
  };
}
