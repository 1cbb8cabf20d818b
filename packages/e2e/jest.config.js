import { jestConfig } from '../../jest.preset.js';

const config = jestConfig(import.meta.url);
for (const project of config.projects) {
  project.testTimeout = 300_000;
}

export default config;
