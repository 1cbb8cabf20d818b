import { PermanentError, TransientError } from '@inbox-bridge/messaging';
import { HubSpotApiError } from './hubspot-api.js';

/** A HubSpot failure as the messaging runtime classifies it: retry later, or dead-letter with the reason. */
export function asMessagingError(error: unknown): unknown {
  if (error instanceof HubSpotApiError) {
    return error.details.retryable
      ? new TransientError(
          error.message,
          error.details.portalDisconnected === true ? 'PORTAL_DISCONNECTED' : 'HUBSPOT_RETRYABLE',
        )
      : new PermanentError(error.message, `HUBSPOT_${String(error.details.status ?? 'ERROR')}`);
  }
  return error;
}
