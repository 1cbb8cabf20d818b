export {
  SandboxControlClient,
  SandboxControlError,
  type StagingTokenResponse,
} from './client/sandbox-control.client.js';
export { loadSandboxConfig, sandboxConfigSchema, type SandboxConfig } from './config/sandbox.config.js';
export type * from './control/control.types.js';
export { startHubSpotSandbox, type RunningHubSpotSandbox } from './start-sandbox.js';
export type { SandboxInbox, Portal as SandboxPortal, SandboxUser } from './store/portal.store.js';
export { decodeHubSpotUri, isValidV3, signV1, signV3 } from './webhooks/signature.js';
