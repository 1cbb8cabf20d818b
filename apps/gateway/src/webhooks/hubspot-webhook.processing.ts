import type { EntityManager } from 'typeorm';
import type { ClaimedWebhookEvent, ProcessingOutcome } from './hubspot-webhook-event.repository.js';
import type { HubSpotWebhookEvent } from './hubspot-webhook.schemas.js';

export interface ProcessingResult {
  readonly outcome: ProcessingOutcome;
  /** Why an event was skipped, rejected or failed (stored with the event, never a secret). */
  readonly reason?: string;
}

/** The transactional half of processing an event: state changes and outbox rows, committed with the event. */
export type WebhookEffect = (manager: EntityManager) => Promise<ProcessingResult>;

/** Nest injection token for {@link WebhookEventProcessor}. */
export const WEBHOOK_EVENT_PROCESSOR = Symbol('WEBHOOK_EVENT_PROCESSOR');

/**
 * Turns a stored HubSpot webhook into its effects. `prepare` may call HubSpot (outside any transaction);
 * the effect it returns runs in the transaction that marks the event processed. Throw a retryable error
 * (`TransientError`, a retryable `HubSpotApiError`) to try again later, anything permanent to give up.
 */
export interface WebhookEventProcessor {
  prepare(event: HubSpotWebhookEvent, stored: ClaimedWebhookEvent): Promise<WebhookEffect>;
}
