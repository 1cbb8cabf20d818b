export {
  SandboxControlClient,
  SandboxControlError,
  type StagingTokenResponse,
} from './client/sandbox-control.client.js';
export type * from './control/control.types.js';
export { decodeHubSpotUri, isValidV3, signV3 } from './webhooks/signature.js';
