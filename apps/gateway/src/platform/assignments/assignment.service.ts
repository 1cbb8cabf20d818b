import { DEFAULT_RETRY_DELAYS_MS, TransientError, type MessageContext } from '@inbox-bridge/messaging';
import { hubspotActorIdSchema, RoutingKeys, type RouterAssignmentRequestedV1 } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../accounts/channel-account-directory.js';
import { BridgeAssignmentJournal } from '../../conversation-events/bridge-assignment-journal.js';
import {
  HUBSPOT_API,
  HubSpotApiError,
  type HubSpotApi,
  type PortalHubSpotClient,
} from '../../hubspot/hubspot-api.js';

interface PublicThread {
  readonly assignedTo?: string | null;
  readonly threadAssociations?: { readonly associatedTicketId?: string | null } | null;
}

export const ASSIGNED_BY_A_PERSON = 'the thread was assigned by a person in HubSpot';

/**
 * `router.assignment.requested.v1` → the thread assignee (`A-<userId>`, or unassigned) and, for a help-desk
 * inbox, the ticket owner (hubspot-api.md §5.2, §5.4) → `gateway.assignment.applied.v1` or
 * `gateway.assignment.failed.v1` with the reason. Retryable failures go through the retry tiers first; the
 * router hears `retryable: true` only when they are used up. A thread a person assigned in HubSpot (an
 * assignee the bridge's journal did not set) is never reassigned: that request fails, not retryable. Each
 * assignee is written to the journal as an intent just before the call (HubSpot's echo can arrive before this
 * transaction commits) and recorded as applied in the same transaction, so HubSpot's echo of it is known. A refusal
 * because of a person's assignment is preceded by that assignment (`gateway.thread.assignment-changed.v1`).
 */
@Injectable()
export class AssignmentService {
  private readonly logger = new Logger('Assignments');

  constructor(
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
    private readonly journal: BridgeAssignmentJournal,
    @Optional() @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly directory?: ChannelAccountDirectory,
  ) {}

  async apply(request: RouterAssignmentRequestedV1, context: MessageContext): Promise<'applied' | 'failed'> {
    const account = await this.directory?.findForTransaction(context.manager, request.channelAccountId);
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
    const actorId = request.assignee.type === 'user' ? `A-${request.assignee.userId}` : null;
    try {
      const current = await client.request<PublicThread>({
        method: 'GET',
        path: `/conversations/v3/conversations/threads/${thread}`,
      });
      const assignedTo = current.body.assignedTo ?? null;
      // The requested actor already assigned (a retry after the PUT) is no override: apply it again.
      if (
        actorId !== null &&
        assignedTo !== null &&
        assignedTo !== actorId &&
        !(await this.journal.isBridgeAssignment(
          context.manager,
          account.portalId,
          request.hubspotThreadId,
          assignedTo,
        ))
      ) {
        await this.reportPersonsAssignment(request, context, account.portalId, assignedTo);
        await this.fail(request, context, `${ASSIGNED_BY_A_PERSON} (${assignedTo})`, false);
        return 'failed';
      }
      await this.journal.intend(account.portalId, request.hubspotThreadId, actorId);
      if (actorId !== null) {
        await client.request({
          method: 'PUT',
          path: `/conversations/conversations/v3/threads/${thread}/assignee`,
          body: { actorId },
        });
      } else {
        await client.request({
          method: 'DELETE',
          path: `/conversations/conversations/v3/threads/${thread}/assignee`,
        });
      }
      await this.journal.record(context.manager, account.portalId, request.hubspotThreadId, actorId);
      if (account.inboxType === 'HELP_DESK') {
        await this.assignTicket(client, request, current.body);
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
    thread: PublicThread,
  ): Promise<void> {
    const ticketId = thread.threadAssociations?.associatedTicketId;
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

  /**
   * The person's assignment this request ran into, published ahead of the refusal (the two share the thread's
   * order): the router records the thread as manual at once, instead of trying every other member of the pool
   * until HubSpot's own assignment event arrives. HubSpot's event still comes later and repeats it.
   */
  private async reportPersonsAssignment(
    request: RouterAssignmentRequestedV1,
    context: MessageContext,
    portalId: string,
    assignedTo: string,
  ): Promise<void> {
    if (!hubspotActorIdSchema.safeParse(assignedTo).success) {
      this.logger.warn(
        { hubspotThreadId: request.hubspotThreadId, assignedTo },
        "assignee of an unknown form; the router learns it from HubSpot's assignment event",
      );
      return;
    }
    await context.publish(
      RoutingKeys.GatewayThreadAssignmentChangedV1,
      { hubspotThreadId: request.hubspotThreadId, assignedActorId: assignedTo, byAgent: true },
      { portalId: Number(portalId) },
    );
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
