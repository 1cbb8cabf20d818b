import { jestConfig } from '../../jest.preset.js';

const config = jestConfig(import.meta.url);
// A global option: Jest ignores `testTimeout` set on a project.
config.testTimeout = 300_000;

export default config;
