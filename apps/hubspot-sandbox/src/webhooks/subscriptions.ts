import type {
  AppWebhookSettings,
  AppWebhookSettingsRequest,
  ConversationSubscriptionType,
} from '../control/control.types.js';
import type { IdGenerator } from '../store/ids.js';

export const CONVERSATION_SUBSCRIPTION_TYPES: readonly ConversationSubscriptionType[] = [
  'conversation.creation',
  'conversation.deletion',
  'conversation.privacyDeletion',
  'conversation.newMessage',
  'conversation.propertyChange',
];
export const CONVERSATION_PROPERTIES = ['assignedTo', 'status', 'isArchived'] as const;

/** Everything the router and gateway react to (§A.2): the default subscriptions of the seeded app. */
export const DEFAULT_SUBSCRIPTIONS =
  'conversation.creation,conversation.deletion,conversation.privacyDeletion,conversation.newMessage,conversation.propertyChange:assignedTo,conversation.propertyChange:status';

type SubscriptionInput = AppWebhookSettingsRequest['subscriptions'][number];

/**
 * `type[:property]` items separated by commas, e.g. `conversation.creation,conversation.propertyChange:assignedTo`.
 * Returns the subscriptions, or the first item it cannot read.
 */
export function parseSubscriptionList(value: string): SubscriptionInput[] | { invalid: string } {
  const result: SubscriptionInput[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    if (item === '') {
      continue;
    }
    const [type, property, extra] = item.split(':');
    const subscriptionType = CONVERSATION_SUBSCRIPTION_TYPES.find((known) => known === type);
    const propertyName = CONVERSATION_PROPERTIES.find((known) => known === property);
    const isPropertyChange = subscriptionType === 'conversation.propertyChange';
    if (
      subscriptionType === undefined ||
      extra !== undefined ||
      isPropertyChange !== (propertyName !== undefined) ||
      (!isPropertyChange && property !== undefined)
    ) {
      return { invalid: item };
    }
    result.push(propertyName === undefined ? { subscriptionType } : { subscriptionType, propertyName });
  }
  return result;
}

/** HubSpot's cap of events per Webhooks API request. */
export const MAX_EVENTS_PER_REQUEST = 100;

/** Settings with a subscription id per subscription (numbered like HubSpot's, per sandbox). */
export function webhookSettings(request: AppWebhookSettingsRequest, ids: IdGenerator): AppWebhookSettings {
  return {
    targetUrl: request.targetUrl,
    maxEventsPerRequest: request.maxEventsPerRequest ?? MAX_EVENTS_PER_REQUEST,
    subscriptions: request.subscriptions.map((subscription) => ({
      id: ids.next('webhook-subscription', 2_000_001),
      subscriptionType: subscription.subscriptionType,
      ...(subscription.propertyName === undefined ? {} : { propertyName: subscription.propertyName }),
      active: subscription.active ?? true,
    })),
  };
}
