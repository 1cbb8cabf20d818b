export {
  ProviderSandboxClient,
  SandboxClientError,
  type SandboxBot,
  type SandboxCall,
  type SandboxChatMessage,
  type SandboxCustomer,
  type SandboxDeliveryAttempt,
  type SandboxTwilioAccount,
  type SandboxTwilioInbound,
  type SandboxTwilioMedia,
  type SandboxTwilioMessage,
  type SandboxTwilioNumber,
  type SandboxTwilioWebhookAttempt,
} from './client/sandbox-client.js';
export { loadSandboxConfig, sandboxConfigSchema, type SandboxConfig } from './config/sandbox.config.js';
export { startProviderSandbox, type RunningSandbox } from './sandbox-app.js';
export type { CustomerMessageInput, CustomerMessageKind } from './telegram/customer-simulator.js';
export type { FaultRule } from './telegram/fault.store.js';
export type { RateLimitSettings } from './telegram/rate-limiter.js';
export type * from './telegram/telegram.types.js';
export { ACCEPTED_MEDIA_TYPES as TWILIO_MMS_MEDIA_TYPES } from './twilio/media-types.js';
export { smsSegments, type SegmentInfo } from './twilio/segments.js';
export { signedUrl, twilioSignature, type SignatureUrlPort, type TwilioParams } from './twilio/signature.js';
