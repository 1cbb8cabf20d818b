import { Injectable } from '@nestjs/common';
import { HubSpotError } from '../common/hubspot-error.js';
import { detail, invalidInput, parseStrict } from '../common/validation.js';
import { assertQuery } from '../crm/crm-objects.js';
import { AppStore, type SandboxApp } from '../store/app.store.js';
import { ChannelStore, type Channel } from '../store/channel.store.js';
import { IdGenerator } from '../store/ids.js';
import { validateCapabilities } from './capabilities.js';
import { channelCreateSchema, channelPatchSchema } from './custom-channel.schemas.js';

export interface ChannelPage {
  total: number;
  results: Record<string, unknown>[];
  paging?: { next: { after: string } };
}

/** The developer credential: every channel call takes these query parameters and no others (list adds paging). */
export const DEVELOPER_QUERY = ['hapikey', 'appId'] as const;
/** `GET` channel list (§1.3). */
export const CHANNEL_LIST_QUERY = [
  ...DEVELOPER_QUERY,
  'after',
  'defaultPageLength',
  'limit',
  'sort',
] as const;

/** Channel definitions (§1.3), owned by an app and managed with its developer API key (§1.2). */
@Injectable()
export class ChannelService {
  constructor(
    private readonly apps: AppStore,
    private readonly channels: ChannelStore,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * `?hapikey=…&appId=…`. Strictest reading: `appId` is required on every channel call, not only create,
   * and the key must belong to the developer account that owns the app. Other query parameters than
   * `allowed` are a 400 (after authentication, as HubSpot answers 401 first).
   */
  authenticateDeveloper(
    query: Record<string, unknown>,
    allowed: readonly string[] = DEVELOPER_QUERY,
  ): SandboxApp {
    const hapikey = typeof query.hapikey === 'string' ? query.hapikey : undefined;
    const app =
      hapikey === undefined
        ? undefined
        : this.apps.list().find((candidate) => candidate.developerApiKeys.includes(hapikey));
    if (app === undefined) {
      throw HubSpotError.invalidApiKey();
    }
    const appId =
      typeof query.appId === 'string' && /^\d+$/.test(query.appId) ? Number(query.appId) : undefined;
    if (appId === undefined) {
      throw invalidInput([
        detail('Missing required query parameter "appId"', 'MISSING_REQUIRED_FIELD', 'query', 'appId'),
      ]);
    }
    const owned = this.apps.get(appId);
    if (owned?.developerApiKeys.includes(hapikey ?? '') !== true) {
      throw HubSpotError.envelope(
        403,
        'INVALID_AUTHENTICATION',
        `The API key does not belong to the developer account of app ${appId}`,
      );
    }
    assertQuery(query, allowed);
    return owned;
  }

  create(app: SandboxApp, body: unknown): Channel {
    const input = parseStrict(channelCreateSchema, body);
    validateCapabilities(input.capabilities);
    assertUrls(input);
    const channel: Channel = {
      id: String(this.ids.nextUniqueInt32()),
      appId: app.appId,
      createdAt: new Date().toISOString(),
      archived: false,
      ...input,
    };
    return this.channels.save(channel);
  }

  list(app: SandboxApp, query: Record<string, unknown>): ChannelPage {
    const all = this.channels.list().filter((channel) => channel.appId === app.appId && !channel.archived);
    return paginate(all.map(toPublicChannel), query);
  }

  get(app: SandboxApp, channelId: string): Channel {
    const channel = this.channels.get(channelId);
    if (channel === undefined || channel.archived || channel.appId !== app.appId) {
      throw HubSpotError.notFound(`Channel ${channelId} not found`);
    }
    return channel;
  }

  update(app: SandboxApp, channelId: string, body: unknown): Channel {
    const channel = this.get(app, channelId);
    const input = parseStrict(channelPatchSchema, body);
    validateCapabilities(input.capabilities);
    assertUrls(input);
    Object.assign(channel, input);
    return channel;
  }

  archive(app: SandboxApp, channelId: string): void {
    this.get(app, channelId).archived = true;
  }

  /** For account-scoped calls: the live channel of the token's app, else 404. */
  forApp(channelId: string, appId: number): Channel {
    const channel = this.channels.get(channelId);
    if (channel === undefined || channel.archived || channel.appId !== appId) {
      throw HubSpotError.notFound(`Channel ${channelId} not found`);
    }
    return channel;
  }
}

export function toPublicChannel(channel: Channel): Record<string, unknown> {
  const { appId: _appId, archived: _archived, ...wire } = channel;
  return wire;
}

export function paginate<T>(
  items: T[],
  query: Record<string, unknown>,
): { total: number; results: T[]; paging?: { next: { after: string } } } {
  const limit =
    parseCount(query.limit, 'limit', 1) ?? parseCount(query.defaultPageLength, 'defaultPageLength', 1) ?? 100;
  const offset = parseCount(query.after, 'after', 0) ?? 0;
  const results = items.slice(offset, offset + limit);
  const next = offset + limit;
  return next < items.length
    ? { total: items.length, results, paging: { next: { after: String(next) } } }
    : { total: items.length, results };
}

/** A non-negative integer query parameter of at least `min` (a page of 0 would never advance). */
function parseCount(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min) {
    throw invalidInput([
      detail(
        `Invalid value for query parameter "${name}": expected an integer of at least ${min}`,
        'INVALID_TYPE',
        'query',
        name,
      ),
    ]);
  }
  return Number(value);
}

/** `webhookUrl` must be HTTPS (loopback HTTP allowed for local receivers); other URLs must be absolute. */
function assertUrls(input: {
  webhookUrl?: string;
  channelAccountConnectionRedirectUrl?: string;
  channelLogoUrl?: string;
}): void {
  const problems = [];
  for (const field of ['webhookUrl', 'channelAccountConnectionRedirectUrl', 'channelLogoUrl'] as const) {
    const value = input[field];
    if (value === undefined) {
      continue;
    }
    const parsed = URL.canParse(value) ? new URL(value) : undefined;
    const loopback = parsed !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
    const ok =
      parsed !== undefined && (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback));
    if (!ok) {
      problems.push(
        detail(`Invalid value for field "${field}": expected an https URL`, 'INVALID_URL', 'body', field),
      );
    }
  }
  if (problems.length > 0) {
    throw invalidInput(problems);
  }
}
