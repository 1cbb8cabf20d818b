import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppStore } from '../store/app.store.js';
import type { ChannelAccount } from '../store/channel-account.store.js';
import { ChannelStore } from '../store/channel.store.js';
import type { StoredMessage, Thread } from '../store/message.store.js';
import { WebhookDispatcher } from './webhook-dispatcher.service.js';

export type ChannelAccountEventType =
  'CHANNEL_ACCOUNT_CREATED' | 'CHANNEL_ACCOUNT_UPDATED' | 'CHANNEL_ACCOUNT_PURGED';

/** Builds the §2.2 payloads and hands them to the dispatcher when the channel has a `webhookUrl`. */
@Injectable()
export class CustomChannelEvents {
  constructor(
    private readonly channels: ChannelStore,
    private readonly apps: AppStore,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  channelAccount(type: ChannelAccountEventType, account: ChannelAccount): void {
    this.send(account.channelId, account.portalId, {
      type,
      eventId: randomUUID(),
      portalId: String(account.portalId),
      channelId: account.channelId,
      eventTimestamp: new Date().toISOString(),
      channelAccountId: account.id,
      channelAccountDeliveryIdentifier: account.deliveryIdentifier ?? null,
      authorized: account.authorized,
    });
  }

  outgoingMessage(message: StoredMessage, thread: Thread): void {
    this.send(message.channelId, message.portalId, {
      type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
      eventId: randomUUID(),
      portalId: String(message.portalId),
      channelId: message.channelId,
      eventTimestamp: new Date().toISOString(),
      channelIntegrationThreadIds: [thread.integrationThreadId],
      message: {
        id: message.id,
        type: 'MESSAGE',
        direction: message.direction,
        channelId: message.channelId,
        channelAccountId: message.channelAccountId,
        conversationsThreadId: message.conversationsThreadId,
        createdAt: message.createdAt,
        createdBy: message.createdBy,
        senders: message.senders,
        recipients: message.recipients,
        text: message.text,
        ...(message.richText === undefined ? {} : { richText: message.richText }),
        ...(message.inReplyToId === undefined ? {} : { inReplyToId: message.inReplyToId }),
        truncationStatus: 'NOT_TRUNCATED',
        status: message.status.statusType,
        attachments: message.attachments,
      },
    });
  }

  private send(channelId: string, portalId: number, payload: Record<string, unknown>): void {
    const channel = this.channels.get(channelId);
    const app = channel === undefined ? undefined : this.apps.get(channel.appId);
    if (channel?.webhookUrl === undefined || app === undefined) {
      return;
    }
    const body = JSON.stringify(payload);
    this.dispatcher.dispatch({
      kind: 'CUSTOM_CHANNEL',
      eventType: String(payload.type),
      url: channel.webhookUrl,
      clientSecret: app.clientSecret,
      portalId,
      channelId,
      appId: app.appId,
      render: () => body,
    });
  }
}
