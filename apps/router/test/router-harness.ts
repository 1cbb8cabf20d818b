import { EVENTS_EXCHANGE, ORDERING_KEY_HEADER } from '@inbox-bridge/messaging';
import { createServiceApp, startServiceApp } from '@inbox-bridge/service-kit';
import {
  orderingKeyOf,
  RoutingKeys,
  type GatewayConversationStartedV1,
  type MessageEnvelope,
  type MessageOf,
  type RosterUser,
  type RouterAssignmentRequestedV1,
  type RoutingKey,
} from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AppModule } from '../src/app.module.js';
import { loadRouterConfig, routerConfigSchema } from '../src/config/router.config.js';
import type { Clock } from '../src/routing/clock.js';
import type { RoutingRulesInput } from '../src/routing/routing-rules.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: Date = new Date()) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(instant: Date | string): void {
    this.current = new Date(instant);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** The real time, moved forward by hand: arrival order stays real while timers can be made due. */
export class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface RunningRouter {
  readonly app: NestExpressApplication;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** The router as main.ts builds it (plus an optional clock), on port 0, against a test schema and vhost. */
export async function startRouter(
  db: testing.TestDatabase,
  vhost: testing.TestVhost,
  options: { clock?: Clock; adminTokens?: string; env?: Record<string, string> } = {},
): Promise<RunningRouter> {
  const config = loadRouterConfig({
    DATABASE_URL: testing.testDatabaseUrl,
    DATABASE_SCHEMA: db.schema,
    DATABASE_POOL_SIZE: '6',
    AMQP_URL: vhost.url,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    LOG_LEVEL: 'error',
    ROUTER_TIMER_POLL_INTERVAL_MS: '50',
    ROUTER_ASSIGNMENT_RETRY_DELAY_MS: '100',
    ...(options.adminTokens === undefined ? {} : { ADMIN_TOKENS: options.adminTokens }),
    ...options.env,
  });
  const app = await createServiceApp<typeof config>(
    AppModule.forRoot(config, options.clock === undefined ? {} : { clock: options.clock }),
    { config, configSchema: routerConfigSchema },
  );
  await startServiceApp(app, { port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  await testing.expectEventually(
    async () => {
      const response = await fetch(`${baseUrl}/health/ready`);
      if (response.status !== 200) {
        throw new Error(`ready answered ${response.status}`);
      }
    },
    { timeoutMs: 30_000, description: 'router ready (consumers declared)' },
  );
  return { app, baseUrl, close: () => app.close() };
}

/** Publishes the gateway's events to the vhost as the gateway's relay would (envelope, ordering header). */
export class GatewayEvents {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
  ) {}

  static async open(amqpUrl: string): Promise<GatewayEvents> {
    const connection = await connect(amqpUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    return new GatewayEvents(connection, channel);
  }

  async publish<K extends RoutingKey>(
    portalId: number,
    type: K,
    payload: MessageOf<K>,
    messageId: string = randomUUID(),
  ): Promise<MessageEnvelope<K>> {
    const envelope: MessageEnvelope<K> = {
      messageId,
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date().toISOString(),
      portalId,
      type,
      payload,
    };
    await this.send(envelope);
    return envelope;
  }

  /** Sends an envelope exactly as given (a redelivery of the same message id). */
  async send(envelope: MessageEnvelope): Promise<void> {
    this.channel.publish(EVENTS_EXCHANGE, envelope.type, Buffer.from(JSON.stringify(envelope)), {
      messageId: envelope.messageId,
      persistent: true,
      contentType: 'application/json',
      headers: { [ORDERING_KEY_HEADER]: orderingKeyOf(envelope) },
    });
    await this.channel.waitForConfirms();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

export type AssignmentRequest = MessageEnvelope<typeof RoutingKeys.RouterAssignmentRequestedV1>;

/** What the router asked the gateway to do, in arrival order. */
export class RouterCommands {
  private constructor(private readonly capture: testing.CapturedMessages<AssignmentRequest>) {}

  static async capture(amqpUrl: string): Promise<RouterCommands> {
    return new RouterCommands(
      await testing.captureMessages<AssignmentRequest>(
        amqpUrl,
        EVENTS_EXCHANGE,
        RoutingKeys.RouterAssignmentRequestedV1,
      ),
    );
  }

  all(portalId?: number): AssignmentRequest[] {
    return this.capture.messages.filter((message) => portalId === undefined || message.portalId === portalId);
  }

  forThread(portalId: number, hubspotThreadId: string): RouterAssignmentRequestedV1[] {
    return this.all(portalId)
      .filter((message) => message.payload.hubspotThreadId === hubspotThreadId)
      .map((message) => message.payload);
  }

  /** Waits for the `count`-th request about a thread and returns it. */
  async nth(portalId: number, hubspotThreadId: string, count = 1): Promise<RouterAssignmentRequestedV1> {
    return testing.expectEventually(
      () => {
        const found = this.forThread(portalId, hubspotThreadId)[count - 1];
        if (found === undefined) {
          throw new Error(`no request #${count} for thread ${hubspotThreadId} yet`);
        }
        return found;
      },
      { timeoutMs: 20_000, description: `assignment request #${count} for thread ${hubspotThreadId}` },
    );
  }

  close(): Promise<void> {
    return this.capture.close();
  }
}

/** The gateway applying the router's `nth` request for a thread in HubSpot: publishes `applied`, returns the user. */
export async function gatewayApplies(
  events: GatewayEvents,
  commands: RouterCommands,
  portalId: number,
  hubspotThreadId: string,
  appliedAt: Date,
  nth = 1,
): Promise<string> {
  const request = await commands.nth(portalId, hubspotThreadId, nth);
  if (request.assignee.type !== 'user') {
    throw new Error('expected a user assignee');
  }
  await events.publish(portalId, RoutingKeys.GatewayAssignmentAppliedV1, {
    decisionId: request.decisionId,
    hubspotThreadId,
    userId: request.assignee.userId,
    appliedAt: appliedAt.toISOString(),
  });
  return request.assignee.userId;
}

let sequence = 0;
/** Ids unique within a test run. */
export const nextId = (prefix: string): string => `${prefix}${Date.now().toString(36)}${(sequence += 1)}`;

export const user = (userId: string, overrides: Partial<RosterUser> = {}): RosterUser => ({
  userId,
  availability: 'available',
  teamIds: [],
  ...overrides,
});

export const started = (
  channelAccountId: string,
  hubspotThreadId: string,
  overrides: Partial<GatewayConversationStartedV1> = {},
): GatewayConversationStartedV1 => ({
  channelAccountId,
  inboxId: '9001',
  hubspotThreadId,
  conversationKey: `key-${hubspotThreadId}`,
  startedAt: new Date().toISOString(),
  ...overrides,
});

/** An admin client for one portal's token. */
export function adminClient(baseUrl: string, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  };
  return {
    call,
    putRules: (channelAccountId: string, rules: RoutingRulesInput) =>
      call('PUT', `/admin/channel-accounts/${channelAccountId}/rules`, rules),
    audit: (hubspotThreadId: string) => call('GET', `/admin/conversations/${hubspotThreadId}/audit`),
    queue: (channelAccountId: string) => call('GET', `/admin/channel-accounts/${channelAccountId}/queue`),
  };
}
