import { APP_CONFIG, DATA_SOURCE, DomainError } from '@inbox-bridge/service-kit';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { HUBSPOT_API, HubSpotApiError, type HubSpotApi } from '../../hubspot/hubspot-api.js';
import type { ChannelRegistry } from '../channel-registry.js';
import { buildChannelDefinition, channelMatches, type ChannelDefinition } from './channel-definition.js';

const CHANNELS_PATH = '/conversations/v3/custom-channels';

export type RegistrationOutcome = 'created' | 'updated' | 'unchanged';

export interface RegistrationResult {
  readonly channelId: string;
  readonly outcome: RegistrationOutcome;
  readonly definition: ChannelDefinition;
}

interface HubSpotChannel extends Record<string, unknown> {
  readonly id: string;
  readonly name: string;
}

/**
 * Creates or updates the app's single custom channel (never one per install, hubspot-api.md §7.2) and keeps
 * its id. Idempotent: the stored channel (or, first time, the app's channel with the same name) is compared
 * with the desired definition and PATCHed only when something differs. Also the `ChannelRegistry`.
 */
@Injectable()
export class ChannelRegistrationService implements ChannelRegistry {
  private readonly logger = new Logger('ChannelRegistration');
  private cached: { channelId: string; definition: ChannelDefinition } | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
  ) {}

  desiredDefinition(): ChannelDefinition {
    if (this.config.PUBLIC_BASE_URL === undefined) {
      throw new DomainError(
        'PUBLIC_BASE_URL_REQUIRED',
        'PUBLIC_BASE_URL must be set to register the channel',
        {
          httpStatus: 409,
        },
      );
    }
    return buildChannelDefinition({
      name: this.config.CHANNEL_NAME,
      description: this.config.CHANNEL_DESCRIPTION,
      logoUrl: this.config.CHANNEL_LOGO_URL,
      publicBaseUrl: this.config.PUBLIC_BASE_URL,
      threadingModel: this.config.HUBSPOT_THREADING_MODEL,
      enabledProviders: this.config.ENABLED_PROVIDERS,
    });
  }

  async register(): Promise<RegistrationResult> {
    const desired = this.desiredDefinition();
    const developer = this.hubspot.developer();
    const existing = (await this.storedChannel()) ?? (await this.channelNamed(desired.name));
    let result: RegistrationResult;
    if (existing === undefined) {
      const created = await developer.request<HubSpotChannel>({
        method: 'POST',
        path: CHANNELS_PATH,
        body: desired,
        // A create whose answer was lost may have made the channel: adopt it rather than make a second (§7.2).
        findIfDone: () => this.channelNamed(desired.name),
      });
      result = { channelId: created.body.id, outcome: 'created', definition: desired };
    } else if (channelMatches(desired, existing)) {
      result = { channelId: existing.id, outcome: 'unchanged', definition: desired };
    } else {
      await developer.request({ method: 'PATCH', path: `${CHANNELS_PATH}/${existing.id}`, body: desired });
      result = { channelId: existing.id, outcome: 'updated', definition: desired };
    }
    await this.dataSource.query(
      `INSERT INTO "${this.config.DATABASE_SCHEMA}".hubspot_channel (singleton, channel_id, definition, updated_at)
       VALUES (true, $1, $2, clock_timestamp())
       ON CONFLICT (singleton) DO UPDATE SET
         channel_id = EXCLUDED.channel_id, definition = EXCLUDED.definition,
         updated_at = CASE WHEN hubspot_channel.channel_id = EXCLUDED.channel_id
                            AND hubspot_channel.definition = EXCLUDED.definition
                           THEN hubspot_channel.updated_at ELSE clock_timestamp() END`,
      [result.channelId, JSON.stringify(desired)],
    );
    this.cached = { channelId: result.channelId, definition: desired };
    this.logger.log({ channelId: result.channelId, outcome: result.outcome }, 'custom channel registered');
    return result;
  }

  async channelId(): Promise<string> {
    return (await this.registered()).channelId;
  }

  /** The registered channel's id and the definition it was registered with. */
  async registered(): Promise<{ channelId: string; definition: ChannelDefinition }> {
    if (this.cached !== undefined) {
      return this.cached;
    }
    const [row] = await this.dataSource.query<{ channel_id: string; definition: ChannelDefinition }[]>(
      `SELECT channel_id, definition FROM "${this.config.DATABASE_SCHEMA}".hubspot_channel`,
    );
    if (row === undefined) {
      throw new DomainError(
        'CHANNEL_NOT_REGISTERED',
        'the custom channel is not registered: run `npm run register-channel`',
        {
          httpStatus: 503,
        },
      );
    }
    this.cached = { channelId: row.channel_id, definition: row.definition };
    return this.cached;
  }

  private async storedChannel(): Promise<HubSpotChannel | undefined> {
    const [row] = await this.dataSource.query<{ channel_id: string }[]>(
      `SELECT channel_id FROM "${this.config.DATABASE_SCHEMA}".hubspot_channel`,
    );
    if (row === undefined) {
      return undefined;
    }
    try {
      const found = await this.hubspot
        .developer()
        .request<HubSpotChannel>({ method: 'GET', path: `${CHANNELS_PATH}/${row.channel_id}` });
      return found.body;
    } catch (error) {
      if (error instanceof HubSpotApiError && error.details.status === 404) {
        this.logger.warn({ channelId: row.channel_id }, 'the stored channel no longer exists in HubSpot');
        return undefined;
      }
      throw error;
    }
  }

  private async channelNamed(name: string): Promise<HubSpotChannel | undefined> {
    let after: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const response = await this.hubspot.developer().request<{
        results: HubSpotChannel[];
        paging?: { next?: { after?: string } };
      }>({ method: 'GET', path: CHANNELS_PATH, query: { limit: 100, ...(after === undefined ? {} : { after }) } });
      const found = response.body.results.find((channel) => channel.name === name);
      if (found !== undefined) {
        return found;
      }
      after = response.body.paging?.next?.after;
      if (after === undefined) {
        return undefined;
      }
    }
    return undefined;
  }
}
