import { APP_CONFIG, DATA_SOURCE, DrainState, SecretBox } from '@inbox-bridge/service-kit';
import type { Provider } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config/gateway.config.js';
import { HttpHubSpotApi } from './hubspot-api.client.js';
import { HUBSPOT_API } from './hubspot-api.js';
import { HubSpotOAuthClient } from './hubspot-oauth.client.js';
import { HubSpotMetrics } from './hubspot.metrics.js';
import { PortalRateLimiter } from './portal-rate-limiter.js';
import { PortalTokens } from './portal-tokens.js';

/** The gateway's key ring for secrets at rest (OAuth tokens). */
export const GATEWAY_SECRET_BOX = Symbol('GATEWAY_SECRET_BOX');

/** The CRM Search API's separate budget (hubspot-api.md §6.1: about 5 per second per portal). */
const SEARCH_RATE_LIMITER = Symbol('SEARCH_RATE_LIMITER');

/** Everything `HUBSPOT_API` is built from, as Nest providers. */
export const hubspotProviders: Provider[] = [
  HubSpotMetrics,
  {
    provide: GATEWAY_SECRET_BOX,
    inject: [APP_CONFIG],
    useFactory: (config: GatewayConfig) => SecretBox.fromConfig(config),
  },
  {
    provide: HubSpotOAuthClient,
    inject: [APP_CONFIG],
    useFactory: (config: GatewayConfig) =>
      new HubSpotOAuthClient({
        baseUrl: config.HUBSPOT_API_BASE_URL,
        clientId: config.HUBSPOT_CLIENT_ID,
        clientSecret: config.HUBSPOT_CLIENT_SECRET,
        timeoutMs: config.HUBSPOT_REQUEST_TIMEOUT_MS,
      }),
  },
  {
    provide: PortalRateLimiter,
    inject: [APP_CONFIG, DATA_SOURCE],
    useFactory: (config: GatewayConfig, dataSource: DataSource) =>
      new PortalRateLimiter(dataSource, config.DATABASE_SCHEMA, {
        maxPerInterval: config.HUBSPOT_RATE_LIMIT_PER_10S,
        intervalMs: config.HUBSPOT_RATE_LIMIT_INTERVAL_MS,
        maxWaitMs: config.HUBSPOT_MAX_RATE_WAIT_MS,
        maxCallMs: config.HUBSPOT_REQUEST_TIMEOUT_MS,
      }),
  },
  {
    provide: SEARCH_RATE_LIMITER,
    inject: [APP_CONFIG, DATA_SOURCE],
    useFactory: (config: GatewayConfig, dataSource: DataSource) =>
      new PortalRateLimiter(dataSource, config.DATABASE_SCHEMA, {
        maxPerInterval: 4,
        intervalMs: 1_000,
        maxWaitMs: config.HUBSPOT_MAX_RATE_WAIT_MS,
        maxCallMs: config.HUBSPOT_REQUEST_TIMEOUT_MS,
      }),
  },
  {
    provide: PortalTokens,
    inject: [APP_CONFIG, DATA_SOURCE, GATEWAY_SECRET_BOX, HubSpotOAuthClient, HubSpotMetrics],
    useFactory: (
      config: GatewayConfig,
      dataSource: DataSource,
      secrets: SecretBox,
      oauth: HubSpotOAuthClient,
      metrics: HubSpotMetrics,
    ) => new PortalTokens(dataSource, config.DATABASE_SCHEMA, secrets, oauth, metrics),
  },
  {
    provide: HUBSPOT_API,
    inject: [
      APP_CONFIG,
      PortalRateLimiter,
      PortalTokens,
      HubSpotMetrics,
      SEARCH_RATE_LIMITER,
      { token: DrainState, optional: true },
    ],
    useFactory: (
      config: GatewayConfig,
      limiter: PortalRateLimiter,
      tokens: PortalTokens,
      metrics: HubSpotMetrics,
      searchLimiter: PortalRateLimiter,
      drain: DrainState | undefined,
    ) =>
      new HttpHubSpotApi(
        {
          baseUrl: config.HUBSPOT_API_BASE_URL,
          appId: config.HUBSPOT_APP_ID,
          developerApiKey: config.HUBSPOT_DEVELOPER_API_KEY,
          timeoutMs: config.HUBSPOT_REQUEST_TIMEOUT_MS,
          maxAttempts: config.HUBSPOT_MAX_ATTEMPTS,
          baseDelayMs: config.HUBSPOT_RETRY_BASE_MS,
          rateIntervalMs: config.HUBSPOT_RATE_LIMIT_INTERVAL_MS,
        },
        limiter,
        tokens,
        metrics,
        searchLimiter,
        drain,
      ),
  },
];
