import type { DeliveryIdentifier, Provider } from '@inbox-bridge/shared';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { toDeliveryIdentifier } from './channel-account.repository.js';
import { returnedRows } from './returned-rows.js';

/**
 * PENDING: asked the connector; VALID / INVALID: the connector answered; FINALISED: HubSpot was told to
 * create the account (staging token or direct create); BOUND: the account exists and uses these credentials;
 * ABANDONED: timed out, failed at HubSpot, or the account was purged.
 */
export type CredentialCheckState = 'PENDING' | 'VALID' | 'INVALID' | 'FINALISED' | 'BOUND' | 'ABANDONED';

export interface CredentialCheck {
  readonly requestId: string;
  readonly origin: 'popup' | 'admin';
  readonly portalId: string;
  readonly channelId: string;
  readonly inboxId: string;
  readonly provider: Provider;
  readonly state: CredentialCheckState;
  readonly accountName?: string;
  readonly deliveryIdentifier?: DeliveryIdentifier;
  readonly error?: { readonly code: string; readonly message: string };
  readonly channelAccountId?: string;
}

interface CredentialCheckRow {
  request_id: string;
  origin: 'popup' | 'admin';
  portal_id: string;
  channel_id: string;
  inbox_id: string;
  provider: Provider;
  state: CredentialCheckState;
  account_name: string | null;
  delivery_identifier_type: string | null;
  delivery_identifier_value: string | null;
  error_code: string | null;
  error_message: string | null;
  channel_account_id: string | null;
}

const COLUMNS = `request_id, origin, portal_id, channel_id, inbox_id, provider, state, account_name,
  delivery_identifier_type, delivery_identifier_value, error_code, error_message, channel_account_id`;

function toCheck(row: CredentialCheckRow): CredentialCheck {
  const deliveryIdentifier = toDeliveryIdentifier(
    row.delivery_identifier_type,
    row.delivery_identifier_value,
  );
  return {
    requestId: row.request_id,
    origin: row.origin,
    portalId: row.portal_id,
    channelId: row.channel_id,
    inboxId: row.inbox_id,
    provider: row.provider,
    state: row.state,
    ...(row.account_name === null ? {} : { accountName: row.account_name }),
    ...(deliveryIdentifier === undefined ? {} : { deliveryIdentifier }),
    ...(row.error_code === null
      ? {}
      : { error: { code: row.error_code, message: row.error_message ?? row.error_code } }),
    ...(row.channel_account_id === null ? {} : { channelAccountId: row.channel_account_id }),
  };
}

/** Credential checks of the popup and the admin endpoint (never the credentials: the connector keeps those). */
@Injectable()
export class CredentialCheckRepository {
  async insert(
    manager: EntityManager,
    check: Pick<
      CredentialCheck,
      'requestId' | 'origin' | 'portalId' | 'channelId' | 'inboxId' | 'provider'
    > & {
      readonly accountToken?: string;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO credential_checks
         (request_id, origin, portal_id, channel_id, inbox_id, account_token, provider, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING')`,
      [
        check.requestId,
        check.origin,
        check.portalId,
        check.channelId,
        check.inboxId,
        check.accountToken ?? null,
        check.provider,
      ],
    );
  }

  async find(manager: EntityManager, requestId: string): Promise<CredentialCheck | undefined> {
    const rows: CredentialCheckRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM credential_checks WHERE request_id = $1`,
      [requestId],
    );
    const [row] = rows;
    return row === undefined ? undefined : toCheck(row);
  }

  /** Stores the connector's answer to a pending check; `false` when the check is unknown or not pending. */
  async answer(
    manager: EntityManager,
    requestId: string,
    reply:
      | { readonly ok: true; readonly accountName?: string; readonly deliveryIdentifier?: DeliveryIdentifier }
      | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } },
  ): Promise<boolean> {
    const result: unknown = await manager.query(
      `UPDATE credential_checks
          SET state = $2, account_name = $3, delivery_identifier_type = $4, delivery_identifier_value = $5,
              error_code = $6, error_message = $7, answered_at = now()
        WHERE request_id = $1 AND state = 'PENDING'
        RETURNING request_id`,
      reply.ok
        ? [
            requestId,
            'VALID',
            reply.accountName ?? null,
            reply.deliveryIdentifier?.type ?? null,
            reply.deliveryIdentifier?.value ?? null,
            null,
            null,
          ]
        : [requestId, 'INVALID', null, null, null, reply.error.code, reply.error.message],
    );
    return returnedRows(result).length > 0;
  }

  /** VALID → FINALISED with the name and identifier HubSpot is told; `false` when not VALID (used twice). */
  async finalise(
    manager: EntityManager,
    requestId: string,
    account: { readonly accountName: string; readonly deliveryIdentifier: DeliveryIdentifier },
  ): Promise<boolean> {
    const result: unknown = await manager.query(
      `UPDATE credential_checks
          SET state = 'FINALISED', account_name = $2, delivery_identifier_type = $3,
              delivery_identifier_value = $4, finalised_at = now()
        WHERE request_id = $1 AND state = 'VALID'
        RETURNING request_id`,
      [requestId, account.accountName, account.deliveryIdentifier.type, account.deliveryIdentifier.value],
    );
    return returnedRows(result).length > 0;
  }

  /**
   * Another connection of the address that HubSpot is still finishing (told to create the account less than
   * `withinMs` ago, not bound yet); an older one is taken as never finished (a popup HubSpot dropped).
   */
  async finishingElsewhere(
    manager: EntityManager,
    check: { readonly requestId: string; readonly provider: Provider; readonly address: DeliveryIdentifier },
    withinMs: number,
  ): Promise<CredentialCheck | undefined> {
    const rows: CredentialCheckRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM credential_checks
        WHERE state = 'FINALISED' AND delivery_identifier_value = $1 AND delivery_identifier_type = $2
          AND provider = $3 AND request_id <> $4 AND finalised_at > now() - make_interval(secs => $5)
        LIMIT 1`,
      [check.address.value, check.address.type, check.provider, check.requestId, withinMs / 1000],
    );
    const [row] = rows;
    return row === undefined ? undefined : toCheck(row);
  }

  /** HubSpot refused to create the account: the credentials are not used by any account. */
  async abandon(manager: EntityManager, requestId: string): Promise<void> {
    await manager.query(
      `UPDATE credential_checks SET state = 'ABANDONED', account_token = NULL
        WHERE request_id = $1 AND state IN ('PENDING', 'VALID', 'FINALISED')`,
      [requestId],
    );
  }

  /**
   * The oldest finalised check HubSpot's new account comes from: same portal, inbox and delivery identifier
   * (the staging token's answer does not carry the account id). Locked until the end of the transaction.
   */
  async matchFinalised(
    manager: EntityManager,
    account: {
      readonly portalId: string;
      readonly inboxId: string;
      readonly deliveryIdentifier?: DeliveryIdentifier;
    },
  ): Promise<CredentialCheck | undefined> {
    if (account.deliveryIdentifier === undefined) {
      return undefined;
    }
    const rows: CredentialCheckRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM credential_checks
        WHERE state = 'FINALISED' AND portal_id = $1 AND inbox_id = $2
          AND delivery_identifier_type = $3 AND delivery_identifier_value = $4
        ORDER BY finalised_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED`,
      [account.portalId, account.inboxId, account.deliveryIdentifier.type, account.deliveryIdentifier.value],
    );
    const [row] = rows;
    return row === undefined ? undefined : toCheck(row);
  }

  /** FINALISED → BOUND to the account; `false` when it was bound already. */
  async bind(manager: EntityManager, requestId: string, channelAccountId: string): Promise<boolean> {
    const result: unknown = await manager.query(
      `UPDATE credential_checks SET state = 'BOUND', channel_account_id = $2, account_token = NULL
        WHERE request_id = $1 AND state = 'FINALISED'
        RETURNING request_id`,
      [requestId, channelAccountId],
    );
    return returnedRows(result).length > 0;
  }
}
