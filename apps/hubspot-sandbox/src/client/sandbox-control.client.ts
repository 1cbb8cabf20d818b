import type {
  AgentReplyRequest,
  AppWebhookSettings,
  AppWebhookSettingsRequest,
  FaultRule,
  IssuedTokens,
  IssueTokenRequest,
  RecordedCall,
  RegisterAppRequest,
  SandboxSettings,
  SeedContactRequest,
  SeedOwnerRequest,
  SeedPortalRequest,
  StagingTokenRequest,
  UserChangeRequest,
  WebhookDelivery,
} from '../control/control.types.js';
import type { Portal } from '../store/portal.store.js';

export interface StagingTokenResponse {
  readonly accountToken: string;
  readonly channelId: string;
  readonly portalId: number;
  readonly inboxId: string;
  readonly userId: number;
  readonly createdAt: string;
  /** The channel's `channelAccountConnectionRedirectUrl` with the five query parameters, if set. */
  readonly popupUrl: string | null;
}

export class SandboxControlError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HubSpot sandbox control call failed with HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

/** A typed client for `/__sandbox/*`, for tests and benchmarks of other workspaces. */
export class SandboxControlClient {
  constructor(readonly baseUrl: string) {}

  seedPortal(portal: SeedPortalRequest): Promise<unknown> {
    return this.call('POST', '/__sandbox/portals', portal);
  }

  seedTeam(hubId: number, team: { id: string; name: string }): Promise<unknown> {
    return this.call('POST', `/__sandbox/portals/${hubId}/teams`, team);
  }

  seedOwner(hubId: number, owner: SeedOwnerRequest): Promise<{ id: string; userId: number | null }> {
    return this.call('POST', `/__sandbox/portals/${hubId}/owners`, owner);
  }

  seedContact(hubId: number, contact: SeedContactRequest): Promise<{ id: string }> {
    return this.call('POST', `/__sandbox/portals/${hubId}/contacts`, contact);
  }

  /** Availability, seat or deactivation of a user. */
  updateUser(hubId: number, userId: number, change: UserChangeRequest): Promise<unknown> {
    return this.call('PATCH', `/__sandbox/portals/${hubId}/users/${userId}`, change);
  }

  registerApp(app: RegisterAppRequest): Promise<unknown> {
    return this.call('POST', '/__sandbox/apps', app);
  }

  /** The app's Webhooks API target URL and conversation subscriptions (§2.6), replaced whole. */
  setAppWebhooks(appId: number, settings: AppWebhookSettingsRequest): Promise<AppWebhookSettings> {
    return this.call('PUT', `/__sandbox/apps/${appId}/webhooks`, settings);
  }

  /** The app's Webhooks API settings, or null when it has none. */
  async appWebhooks(appId: number): Promise<AppWebhookSettings | null> {
    try {
      return await this.call<AppWebhookSettings>('GET', `/__sandbox/apps/${appId}/webhooks`);
    } catch (error) {
      if (error instanceof SandboxControlError && error.status === 404) {
        return null;
      }
      throw error;
    }
  }

  async deleteAppWebhooks(appId: number): Promise<void> {
    await this.call('DELETE', `/__sandbox/apps/${appId}/webhooks`);
  }

  issueTokens(hubId: number, request: IssueTokenRequest): Promise<IssuedTokens> {
    return this.call('POST', `/__sandbox/portals/${hubId}/tokens`, request);
  }

  calls(hubId: number): Promise<RecordedCall[]> {
    return this.call('GET', `/__sandbox/portals/${hubId}/calls`);
  }

  /** Every recorded call, including the developer-key (`hapikey`) channel calls that belong to no portal. */
  allCalls(): Promise<RecordedCall[]> {
    return this.call('GET', '/__sandbox/calls');
  }

  /** A seeded portal as stored: its users and inboxes (with their current `INBOX` / `HELP_DESK` type). */
  portal(hubId: number): Promise<Portal> {
    return this.call('GET', `/__sandbox/portals/${hubId}`);
  }

  createStagingToken(request: StagingTokenRequest): Promise<StagingTokenResponse> {
    const { portalId, ...body } = request;
    return this.call('POST', `/__sandbox/portals/${portalId}/staging-tokens`, body);
  }

  updateChannelAccount(
    accountId: string,
    change: { name?: string; active?: boolean; authorized?: boolean; inboxId?: string },
  ): Promise<unknown> {
    return this.call('PATCH', `/__sandbox/channel-accounts/${accountId}`, change);
  }

  purgeChannelAccount(accountId: string): Promise<unknown> {
    return this.call('DELETE', `/__sandbox/channel-accounts/${accountId}`);
  }

  threads(
    hubId: number,
  ): Promise<{ id: string; integrationThreadId: string; messages: { id: string; text: string }[] }[]> {
    return this.call('GET', `/__sandbox/portals/${hubId}/threads`);
  }

  /** Messages per channel account of the portal, by direction (cheap to poll while a load runs). */
  messageCounts(hubId: number): Promise<Record<string, { INCOMING: number; OUTGOING: number }>> {
    return this.call('GET', `/__sandbox/portals/${hubId}/message-counts`);
  }

  agentReply(threadId: string, reply: AgentReplyRequest): Promise<{ id: string }> {
    return this.call('POST', `/__sandbox/threads/${threadId}/agent-replies`, reply);
  }

  /** A rep deletes the thread in the inbox (to the trash, archived): `conversation.deletion` to subscribed apps. */
  async deleteThread(threadId: string): Promise<void> {
    await this.call('POST', `/__sandbox/threads/${threadId}/deletion`);
  }

  /** A GDPR deletion of the thread and its messages: `conversation.privacyDeletion` to subscribed apps. */
  async privacyDeleteThread(threadId: string): Promise<void> {
    await this.call('POST', `/__sandbox/threads/${threadId}/privacy-deletion`);
  }

  webhookDeliveries(): Promise<WebhookDelivery[]> {
    return this.call('GET', '/__sandbox/webhooks/deliveries');
  }

  settings(): Promise<SandboxSettings> {
    return this.call('GET', '/__sandbox/settings');
  }

  /** Caps the call log (0 = record nothing); `bodies: false` drops request bodies. */
  setCallLog(max: number, bodies?: boolean): Promise<SandboxSettings> {
    return this.call('PUT', '/__sandbox/settings/call-log', {
      max,
      ...(bodies === undefined ? {} : { bodies }),
    });
  }

  /** `max` 0 = unlimited. */
  setRateLimit(max: number, intervalMs: number): Promise<SandboxSettings> {
    return this.call('PUT', '/__sandbox/settings/rate-limit', { max, intervalMs });
  }

  /**
   * Replaces the fault rules (errors, latency, held `timeoutRate`/`holdMs` and dropped `dropRate` connections,
   * served requests whose answer is lost, `lostAnswerRate`, or sent after `holdMs`, `lateAnswerRate`).
   */
  setFaults(faults: readonly FaultRule[]): Promise<SandboxSettings> {
    return this.call('PUT', '/__sandbox/settings/faults', { faults });
  }

  setSearchRateLimit(max: number, intervalMs: number): Promise<SandboxSettings> {
    return this.call('PUT', '/__sandbox/settings/search-rate-limit', { max, intervalMs });
  }

  setMaxUploadBytes(maxUploadBytes: number): Promise<SandboxSettings> {
    return this.call('PUT', '/__sandbox/settings/files', { maxUploadBytes });
  }

  setWebhookTimeScale(timeScale: number): Promise<SandboxSettings> {
    return this.call('PUT', '/__sandbox/settings/webhooks', { timeScale });
  }

  async reset(): Promise<void> {
    await this.call('POST', '/__sandbox/reset');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok) {
      throw new SandboxControlError(response.status, parsed);
    }
    return parsed as T;
  }
}
