import { PermanentError } from '@inbox-bridge/messaging';

/**
 * A message naming a channel account of another portal than its own: dead-lettered with this reason, its effect
 * (a purge, a change, credentials, a reply) never applied to the account.
 */
export class ForeignAccountError extends PermanentError {
  constructor(channelAccountId: string, messagePortalId: number) {
    super(
      `channel account ${channelAccountId} is not an account of portal ${messagePortalId}; nothing was done`,
      'ACCOUNT_OF_ANOTHER_PORTAL',
    );
  }
}

/**
 * A message naming pending credentials (by their check's request id) that were checked for another portal than its
 * own: dead-lettered with this reason, the credentials neither bound to its account nor replaced.
 */
export class ForeignPendingCredentialsError extends PermanentError {
  constructor(requestId: string, messagePortalId: number) {
    super(
      `pending credentials of request ${requestId} were not checked for portal ${messagePortalId}; nothing was done`,
      'CREDENTIALS_OF_ANOTHER_PORTAL',
    );
  }
}
