import { DEFAULT_RETRY_DELAYS_MS, TransientError, type MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type RouterAssignmentRequestedV1 } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../accounts/channel-account-directory.js';
import {
  HUBSPOT_API,
  HubSpotApiError,
  type HubSpotApi,
  type PortalHubSpotClient,
} from '../../hubspot/hubspot-api.js';

interface PublicThread {
  readonly threadAssociations?: { readonly associatedTicketId?: string | null } | null;
}

/**
 * `router.assignment.requested.v1` → the thread assignee (`A-<userId>`, or unassigned) and, for a help-desk
 * inbox, the ticket owner (hubspot-api.md §5.2, §5.4) → `gateway.assignment.applied.v1` or
 * `gateway.assignment.failed.v1` with the reason. Retryable failures go through the retry tiers first; the
 * router hears `retryable: true` only when they are used up.
 */
@Injectable()
export class AssignmentService {
  private readonly logger = new Logger('Assignments');

  constructor(
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
    @Optional() @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly directory?: ChannelAccountDirectory,
  ) {}

  async apply(request: RouterAssignmentRequestedV1, context: MessageContext): Promise<'applied' | 'failed'> {
    const account = await this.directory?.find(request.channelAccountId);
    if (account === undefined) {
      await this.fail(
        request,
        context,
        `channel account ${request.channelAccountId} is unknown or purged`,
        false,
      );
      return 'failed';
    }
    const client = this.hubspot.forPortal(account.portalId);
    const thread = encodeURIComponent(request.hubspotThreadId);
    try {
      if (request.assignee.type === 'user') {
        await client.request({
          method: 'PUT',
          path: `/conversations/conversations/v3/threads/${thread}/assignee`,
          body: { actorId: `A-${request.assignee.userId}` },
        });
      } else {
        await client.request({
          method: 'DELETE',
          path: `/conversations/conversations/v3/threads/${thread}/assignee`,
        });
      }
      if (account.inboxType === 'HELP_DESK') {
        await this.assignTicket(client, request);
      }
    } catch (error) {
      if (!(error instanceof HubSpotApiError)) {
        throw error;
      }
      const retriesLeft = context.attempt <= DEFAULT_RETRY_DELAYS_MS.length;
      if (error.details.retryable && retriesLeft) {
        throw new TransientError(error.message, 'HUBSPOT_RETRYABLE');
      }
      const reason = error.details.hubspotMessage ?? error.message;
      await this.fail(request, context, reason, error.details.retryable);
      return 'failed';
    }
    await context.publish(
      RoutingKeys.GatewayAssignmentAppliedV1,
      {
        decisionId: request.decisionId,
        hubspotThreadId: request.hubspotThreadId,
        ...(request.assignee.type === 'user' ? { userId: request.assignee.userId } : {}),
        appliedAt: new Date().toISOString(),
      },
      { portalId: Number(account.portalId) },
    );
    return 'applied';
  }

  /** In the help desk the assignment is the ticket owner: an owner id, found from the user id. */
  private async assignTicket(
    client: PortalHubSpotClient,
    request: RouterAssignmentRequestedV1,
  ): Promise<void> {
    const thread = await client.request<PublicThread>({
      method: 'GET',
      path: `/conversations/v3/conversations/threads/${encodeURIComponent(request.hubspotThreadId)}`,
    });
    const ticketId = thread.body.threadAssociations?.associatedTicketId;
    if (ticketId === undefined || ticketId === null) {
      this.logger.warn({ hubspotThreadId: request.hubspotThreadId }, 'help-desk thread without a ticket yet');
      return;
    }
    let ownerId = '';
    if (request.assignee.type === 'user') {
      const owner = await client.request<{ id: string }>({
        method: 'GET',
        path: `/crm/v3/owners/${encodeURIComponent(request.assignee.userId)}`,
        query: { idProperty: 'userId' },
      });
      ownerId = owner.body.id;
    }
    await client.request({
      method: 'PATCH',
      path: `/crm/v3/objects/tickets/${encodeURIComponent(ticketId)}`,
      body: { properties: { hubspot_owner_id: ownerId } },
    });
  }

  private async fail(
    request: RouterAssignmentRequestedV1,
    context: MessageContext,
    reason: string,
    retryable: boolean,
  ): Promise<void> {
    this.logger.warn({ decisionId: request.decisionId, reason, retryable }, 'assignment failed');
    await context.publish(RoutingKeys.GatewayAssignmentFailedV1, {
      decisionId: request.decisionId,
      hubspotThreadId: request.hubspotThreadId,
      reason: reason.slice(0, 1_000) || 'HubSpot refused the assignment',
      retryable,
    });
  }
}
