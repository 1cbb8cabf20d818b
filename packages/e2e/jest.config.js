import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jestConfig } from '../../jest.preset.js';

const config = jestConfig(import.meta.url);
const appsDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../apps');

// The sandboxes' typed control clients live in apps/; the preset only maps packages/.
for (const project of config.projects) {
  project.moduleNameMapper = {
    '^@inbox-bridge/hubspot-sandbox$': resolve(appsDir, 'hubspot-sandbox/src/index.ts'),
    '^@inbox-bridge/provider-sandbox$': resolve(appsDir, 'provider-sandbox/src/index.ts'),
    ...project.moduleNameMapper,
  };
  project.testTimeout = 300_000;
}

export default config;
