import {
  EVENTS_EXCHANGE,
  ORDERING_KEY_HEADER,
  listDeadLetters,
  type DeadLetterSummary,
} from '@inbox-bridge/messaging';
import {
  ProviderSandboxClient,
  startProviderSandbox,
  type RunningSandbox,
} from '@inbox-bridge/provider-sandbox';
import {
  MediaLinkSigner,
  TransitSealer,
  generateTransitKeyPair,
  startServiceApp,
  type Env,
} from '@inbox-bridge/service-kit';
import {
  credentialsSealBinding,
  exampleGatewayOutboundMessageRequestedV1,
  orderingKeyOf,
  type GatewayOutboundMessageRequestedV1,
  type MessageEnvelope,
  type MessageOf,
  type ProviderCredentials,
  type ProviderMessageReceivedV1,
  type RoutingKey,
} from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect } from 'amqplib';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConnectorConfig, type ConnectorConfig } from '../../src/config/connector.config.js';
import { createConnectorApp } from '../../src/connector-app.js';
import { connectorMigrations } from '../../src/database/data-source.js';

export const MEDIA_LINK_SECRET = 'connector-test-media-link-secret-0123456789';
export const PORTAL_ID = 424242;

export interface Envelope<P = Record<string, unknown>> {
  readonly messageId: string;
  readonly type: string;
  readonly portalId: number;
  readonly payload: P;
}

/** A free TCP port on 127.0.0.1 (the connector's public URL must be known before it listens). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}

/** HubSpot files as the gateway serves them (`GET /internal/files`, signed `hubspot-file` links). */
export class FakeGatewayFiles {
  readonly files = new Map<string, { contentType: string; body: Buffer }>();
  readonly requests: string[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const signer = new MediaLinkSigner(MEDIA_LINK_SECRET, 'hubspot-file');
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const verdict = signer.verify({
        ref: url.searchParams.get('ref') ?? undefined,
        exp: url.searchParams.get('exp') ?? undefined,
        sig: url.searchParams.get('sig') ?? undefined,
      });
      if (url.pathname !== '/internal/files' || !verdict.ok) {
        response.writeHead(403).end();
        return;
      }
      this.requests.push(verdict.ref);
      const file = this.files.get(verdict.ref);
      if (file === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.body.length),
      });
      response.end(file.body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  }
}

/** `connector.credentials.validated.v1` as the tests read it. */
export interface Validated {
  readonly requestId: string;
  readonly ok: boolean;
  readonly accountName?: string;
  readonly deliveryIdentifier?: { type: string; value: string };
  readonly error?: { code: string; message: string };
}

/** `connector.delivery.status-changed.v1` as the tests read it. */
export interface StatusChanged {
  readonly hubspotMessageId: string;
  readonly status: string;
  readonly providerMessageId?: string;
  readonly failureReason?: string;
  readonly providerErrorCode?: string;
}

export interface ConnectorHarness {
  readonly db: testing.TestDatabase;
  readonly vhost: testing.TestVhost;
  readonly sandbox: RunningSandbox;
  readonly client: ProviderSandboxClient;
  readonly gatewayFiles: FakeGatewayFiles;
  readonly app: NestExpressApplication;
  readonly config: ConnectorConfig;
  readonly baseUrl: string;
  readonly published: testing.CapturedMessages<Envelope>;
  publish<K extends RoutingKey>(type: K, payload: MessageOf<K>, portalId?: number): Promise<string>;
  /** Published messages of one type, payloads only. */
  messagesOf<P = Record<string, unknown>>(type: string): P[];
  mediaLink(ref: string, ttlMs?: number): string;
  /** Seals for this connector's transit key, as the gateway does (`CREDENTIALS_TRANSIT_PUBLIC_KEY`). */
  readonly sealer: TransitSealer;
  /**
   * Publishes `connector.credentials.validate.v2` (credentials sealed as the gateway seals them), or the plaintext
   * v1 a gateway of an earlier release sent, and waits for the answer.
   */
  validate(
    credentials: ProviderCredentials,
    channelAccountId?: string,
    version?: 'v1' | 'v2',
  ): Promise<Validated>;
  /**
   * Connects a Telegram bot as the gateway does (its credentials checked, then `connected.v1` of the portal) and
   * waits until its webhook points at the connector.
   */
  connectTelegramBot(
    channelAccountId: string,
    bot: { readonly token: string; readonly id: number },
  ): Promise<void>;
  /** What is in a consumer group's dead-letter queue (left there). */
  deadLetters(group: string): Promise<DeadLetterSummary[]>;
  /** The account's numbers as Twilio's API lists them to the account itself (§2.5). */
  twilioNumbers(account: {
    readonly sid: string;
    readonly auth_token: string;
  }): Promise<{ sid: string; phone_number: string; sms_url: string }[]>;
  /** Waits for the `provider.message.received.v1` with this provider message id. */
  received(providerMessageId: string): Promise<ProviderMessageReceivedV1>;
  /** Publishes an outbound request (the example, with `overrides`); returns its HubSpot message id. */
  requestReply(overrides: Partial<GatewayOutboundMessageRequestedV1>): Promise<string>;
  /** Every delivery status published so far for a HubSpot message. */
  statuses(hubspotMessageId: string): StatusChanged[];
  /** Waits for the first delivery status of a HubSpot message. */
  firstStatus(hubspotMessageId: string): Promise<StatusChanged>;
  /** A counter of the connector's `/metrics`: the sum of its series whose labels include `labels` (0 when none). */
  counter(metric: string, labels: Readonly<Record<string, string>>): Promise<number>;
  dispose(): Promise<void>;
}

/**
 * The connector as main.ts builds it, on a test schema and vhost, with the provider sandbox as the Telegram
 * and Twilio APIs and a stand-in for the gateway's file endpoint.
 */
export async function startConnectorHarness(
  prefix: string,
  options: { sandboxEnv?: Env; env?: Env } = {},
): Promise<ConnectorHarness> {
  const vhost = await testing.createTestVhost(prefix);
  const db = await testing.createTestDatabase(prefix, connectorMigrations, { poolSize: 2 });
  const published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, '#');
  const sandbox = await startProviderSandbox(
    {
      LOG_LEVEL: 'silent',
      SANDBOX_ALLOW_HTTP_WEBHOOKS: 'true',
      SANDBOX_TIME_SCALE: '0.01',
      TWILIO_SEND_DELAY_MS: '100',
      TWILIO_DELIVERY_DELAY_MS: '100',
      ...options.sandboxEnv,
    },
    { port: 0 },
  );
  const client = new ProviderSandboxClient(sandbox.baseUrl);
  const gatewayFiles = new FakeGatewayFiles();
  await gatewayFiles.start();
  const port = await freePort();
  const transitKeys = generateTransitKeyPair('test');
  const sealer = TransitSealer.fromConfig('CREDENTIALS_TRANSIT_PUBLIC_KEY', transitKeys.publicKey);
  const config = loadConnectorConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testing.testDatabaseUrl,
    DATABASE_SCHEMA: db.schema,
    AMQP_URL: vhost.url,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    LOG_LEVEL: process.env['CONNECTOR_TEST_LOG_LEVEL'] ?? 'error',
    CONNECTOR_PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    TELEGRAM_API_BASE_URL: sandbox.baseUrl,
    TWILIO_API_BASE_URL: sandbox.baseUrl,
    TWILIO_MESSAGING_API_BASE_URL: sandbox.baseUrl,
    GATEWAY_INTERNAL_URL: gatewayFiles.url,
    MEDIA_LINK_SECRET,
    CREDENTIALS_TRANSIT_PRIVATE_KEYS: transitKeys.privateKey,
    PROVIDER_REQUEST_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const app = await createConnectorApp(config);
  await startServiceApp(app, { port, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  await testing.expectEventually(
    async () => {
      const response = await fetch(`${baseUrl}/health/ready`);
      if (response.status !== 200) {
        throw new Error(`not ready: ${await response.text()}`);
      }
    },
    { description: 'connector ready', timeoutMs: 30_000 },
  );

  const amqp = await connect(vhost.url);
  const channel = await amqp.createConfirmChannel();
  const mediaSigner = new MediaLinkSigner(MEDIA_LINK_SECRET, 'provider-media');

  const publish: ConnectorHarness['publish'] = async (type, payload, portalId = PORTAL_ID) => {
    const envelope = {
      messageId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date().toISOString(),
      portalId,
      type,
      payload,
    } as MessageEnvelope<typeof type>;
    channel.publish(EVENTS_EXCHANGE, type, Buffer.from(JSON.stringify(envelope)), {
      persistent: true,
      contentType: 'application/json',
      messageId: envelope.messageId,
      type,
      headers: { [ORDERING_KEY_HEADER]: orderingKeyOf(envelope) },
    });
    await channel.waitForConfirms();
    return envelope.messageId;
  };
  const messagesOf = <P>(type: string): P[] =>
    published.messages.filter((message) => message.type === type).map((message) => message.payload as P);
  const waitFor = <T>(description: string, find: () => T | undefined, timeoutMs = 15_000): Promise<T> =>
    testing.expectEventually(
      () => {
        const found = find();
        if (found === undefined) {
          throw new Error(`no ${description} yet`);
        }
        return found;
      },
      { description, timeoutMs },
    );
  const statuses = (hubspotMessageId: string) =>
    messagesOf<StatusChanged>('connector.delivery.status-changed.v1').filter(
      (status) => status.hubspotMessageId === hubspotMessageId,
    );

  const validate: ConnectorHarness['validate'] = async (credentials, channelAccountId, version = 'v2') => {
    const request = {
      requestId: randomUUID(),
      provider: credentials.provider,
      ...(channelAccountId === undefined ? {} : { channelAccountId }),
    };
    const { requestId } = request;
    if (version === 'v1') {
      await publish('connector.credentials.validate.v1', { ...request, credentials });
    } else {
      await publish('connector.credentials.validate.v2', {
        ...request,
        sealedCredentials: sealer.seal(
          JSON.stringify(credentials),
          credentialsSealBinding(PORTAL_ID, request),
        ),
      });
    }
    return waitFor(`answer to ${requestId}`, () =>
      messagesOf<Validated>('connector.credentials.validated.v1').find((m) => m.requestId === requestId),
    );
  };

  return {
    db,
    vhost,
    sandbox,
    client,
    gatewayFiles,
    app,
    config,
    baseUrl,
    published,
    publish,
    messagesOf,
    mediaLink(ref, ttlMs = 60_000) {
      return mediaSigner.url(`${baseUrl}/internal/media`, ref, ttlMs);
    },
    sealer,
    validate,
    async connectTelegramBot(channelAccountId, bot) {
      const answer = await validate({ provider: 'telegram', botToken: bot.token });
      await publish('gateway.channel-account.connected.v1', {
        channelAccountId,
        hubspotChannelId: '5001',
        inboxId: '311',
        provider: 'telegram',
        name: answer.accountName ?? channelAccountId,
        credentialsRequestId: answer.requestId,
      });
      await testing.expectEventually(
        async () => {
          const { url } = (await client.getBot(bot.id)).webhook;
          if (url !== `${baseUrl}/webhooks/telegram/${channelAccountId}`) {
            throw new Error(`webhook at ${url}`);
          }
        },
        { description: `the webhook of ${channelAccountId} set` },
      );
    },
    async deadLetters(group) {
      const listing = await amqp.createChannel();
      try {
        return await listDeadLetters(listing, group);
      } finally {
        await listing.close();
      }
    },
    async counter(metric, labels) {
      const text = await (await fetch(`${baseUrl}/metrics`)).text();
      let sum = 0;
      for (const [, series = '', value] of text.matchAll(
        new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'),
      )) {
        if (Object.entries(labels).every(([name, wanted]) => series.includes(`${name}="${wanted}"`))) {
          sum += Number(value);
        }
      }
      return sum;
    },
    async twilioNumbers(account) {
      const response = await fetch(
        `${sandbox.baseUrl}/2010-04-01/Accounts/${account.sid}/IncomingPhoneNumbers.json`,
        {
          headers: {
            authorization: `Basic ${Buffer.from(`${account.sid}:${account.auth_token}`).toString('base64')}`,
          },
        },
      );
      const body = (await response.json()) as {
        incoming_phone_numbers: { sid: string; phone_number: string; sms_url: string }[];
      };
      return body.incoming_phone_numbers;
    },
    received(providerMessageId) {
      return waitFor(`message ${providerMessageId}`, () =>
        messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1').find(
          (m) => m.providerMessageId === providerMessageId,
        ),
      );
    },
    async requestReply(overrides) {
      const hubspotMessageId = overrides.hubspotMessageId ?? randomUUID().replace(/-/g, '');
      await publish(
        'gateway.outbound-message.requested.v1',
        exampleGatewayOutboundMessageRequestedV1({
          inReplyToProviderMessageId: undefined,
          attachments: [],
          ...overrides,
          hubspotMessageId,
        }),
      );
      return hubspotMessageId;
    },
    statuses,
    firstStatus(hubspotMessageId) {
      return waitFor(`status of ${hubspotMessageId}`, () => statuses(hubspotMessageId)[0], 30_000);
    },
    async dispose() {
      await amqp.close().catch(() => undefined);
      await app.close();
      await published.close().catch(() => undefined);
      await sandbox.close();
      await gatewayFiles.stop();
      await db.dispose();
      await vhost.dispose();
    },
  };
}
