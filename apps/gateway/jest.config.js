import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jestConfig } from '../../jest.preset.js';

const config = jestConfig(import.meta.url);
const appsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// The preset maps `@inbox-bridge/*` to packages/; the HubSpot sandbox (a test dependency) lives in apps/.
// Its entry must come first: Jest uses the first pattern that matches.
for (const project of config.projects) {
  project.moduleNameMapper = {
    '^@inbox-bridge/hubspot-sandbox$': resolve(appsDir, 'hubspot-sandbox/src/index.ts'),
    ...project.moduleNameMapper,
  };
}

export default config;
