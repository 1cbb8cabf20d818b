import { DomainError, parseBody } from '@inbox-bridge/service-kit';
import { providerCredentialsSchema, shortTextSchema } from '@inbox-bridge/shared';
import { Body, Controller, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AccountConnectionService, type ConnectionFailure } from './account-connection.service.js';
import type { ChannelAccountRecord } from './channel-account-directory.js';
import { PortalAdminGuard } from './portal-admin.guard.js';

const createAccountSchema = z.strictObject({
  /** The HubSpot inbox or help desk to connect the account to. */
  inboxId: z.string().regex(/^\d{1,20}$/, 'must be a HubSpot inbox id'),
  /** Defaults to the name the provider reports (the bot's name, the Twilio number). */
  name: shortTextSchema.optional(),
  credentials: providerCredentialsSchema,
});

const reconnectSchema = z.strictObject({ credentials: providerCredentialsSchema });

const accountPathSchema = z.strictObject({
  channelAccountId: z.string().regex(/^[1-9]\d{0,18}$/, 'must be a HubSpot channel account id'),
});

const failureStatus: Readonly<Record<ConnectionFailure['kind'], number>> = {
  'invalid-credentials': 422,
  'account-unknown': 404,
  'address-in-use': 409,
  'check-timeout': 504,
  'token-used': 409,
  'token-unknown': 404,
  'app-not-installed': 409,
  'hubspot-refused': 502,
  'hubspot-unavailable': 503,
  'hubspot-unconfirmed': 504,
};

class ConnectionFailed extends DomainError {
  constructor(failure: ConnectionFailure) {
    const code =
      failure.kind === 'invalid-credentials'
        ? 'CREDENTIALS_REJECTED'
        : failure.kind.toUpperCase().replaceAll('-', '_');
    super(code, failure.message, {
      httpStatus: failureStatus[failure.kind],
      ...(failure.kind === 'address-in-use' && failure.channelAccountId !== undefined
        ? { extensions: { channelAccountId: failure.channelAccountId } }
        : {}),
    });
  }
}

/**
 * `POST /admin/portals/{portalId}/channel-accounts` (bearer: the portal's `ADMIN_TOKENS` token, checked against the
 * path by {@link PortalAdminGuard}, so `portalId` is the token's own portal): connects an account without
 * the popup, for admins who script it. Same credentials check, then HubSpot's direct create; answers 201
 * with the stored account once `connected.v1` is in the outbox, or 409 for a bot or number connected already
 * (naming its account when it is this portal's).
 */
@Controller()
@UseGuards(PortalAdminGuard)
export class AdminAccountsController {
  constructor(private readonly connections: AccountConnectionService) {}

  @Post('/admin/portals/:portalId/channel-accounts')
  @HttpCode(201)
  async create(@Param('portalId') portalId: string, @Body() body: unknown): Promise<ChannelAccountRecord> {
    const input = parseBody(createAccountSchema, body);
    const result = await this.connections.connectDirectly({
      portalId,
      channelId: await this.connections.channelId(),
      inboxId: input.inboxId,
      ...(input.name === undefined ? {} : { name: input.name }),
      credentials: input.credentials,
    });
    if (!result.ok) {
      throw new ConnectionFailed(result);
    }
    const { archived: _archived, ...account } = result.value;
    return account;
  }

  /**
   * `PUT /admin/portals/{portalId}/channel-accounts/{channelAccountId}/credentials`: new credentials for a
   * connected account (its bot token was revoked, its auth token rotated). They must belong to the same bot or
   * number; the account is then authorized again. Answers 200 with the stored account.
   */
  @Put('/admin/portals/:portalId/channel-accounts/:channelAccountId/credentials')
  async reconnect(
    @Param('portalId') portalId: string,
    @Param('channelAccountId') channelAccountId: string,
    @Body() body: unknown,
  ): Promise<ChannelAccountRecord> {
    parseBody(accountPathSchema, { channelAccountId });
    const input = parseBody(reconnectSchema, body);
    const result = await this.connections.reconnect({
      portalId,
      channelAccountId,
      credentials: input.credentials,
    });
    if (!result.ok) {
      throw new ConnectionFailed(result);
    }
    const { archived: _archived, ...account } = result.value;
    return account;
  }
}
