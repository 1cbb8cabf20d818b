import { Messaging } from '@inbox-bridge/messaging';
import { APP_CONFIG, DATA_SOURCE, TransitSealer } from '@inbox-bridge/service-kit';
import {
  RoutingKeys,
  credentialsSealBinding,
  type DeliveryIdentifier,
  type ProviderCredentials,
} from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config/gateway.config.js';
import { CredentialCheckRepository, type CredentialCheck } from './credential-check.repository.js';

const POLL_MS = 150;

export type CheckOutcome =
  | {
      readonly status: 'valid';
      readonly requestId: string;
      readonly accountName: string;
      readonly deliveryIdentifier: DeliveryIdentifier;
    }
  | {
      readonly status: 'invalid';
      readonly requestId: string;
      readonly code: string;
      readonly message: string;
    }
  | { readonly status: 'timeout'; readonly requestId: string };

/**
 * Asks the connector to check provider credentials (`connector.credentials.validate.v2`, through the
 * outbox) and waits for its answer, which any replica's consumer stores in `credential_checks`. The
 * credentials are sealed for the connector before they reach the outbox (the gateway cannot open them again),
 * and are never stored by the gateway nor logged: only the connector keeps them.
 */
@Injectable()
export class CredentialCheckService {
  private readonly logger = new Logger('CredentialCheck');
  private readonly timeoutMs: number;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly checks: CredentialCheckRepository,
    private readonly messaging: Messaging,
    private readonly sealer: TransitSealer,
  ) {
    this.timeoutMs = config.CREDENTIALS_CHECK_TIMEOUT;
  }

  async check(request: {
    readonly origin: 'popup' | 'admin';
    readonly portalId: string;
    readonly channelId: string;
    readonly inboxId: string;
    readonly accountToken?: string;
    /** Set when the credentials are new ones for this connected account (the connector rebinds it). */
    readonly channelAccountId?: string;
    readonly credentials: ProviderCredentials;
  }): Promise<CheckOutcome> {
    const requestId = randomUUID();
    const { credentials } = request;
    await this.dataSource.transaction(async (manager) => {
      await this.checks.insert(manager, {
        requestId,
        origin: request.origin,
        portalId: request.portalId,
        channelId: request.channelId,
        inboxId: request.inboxId,
        provider: credentials.provider,
        ...(request.accountToken === undefined ? {} : { accountToken: request.accountToken }),
      });
      const portalId = Number(request.portalId);
      const validation = {
        requestId,
        provider: credentials.provider,
        ...(request.channelAccountId === undefined ? {} : { channelAccountId: request.channelAccountId }),
      };
      await this.messaging.outbox.publish(
        manager,
        RoutingKeys.ConnectorCredentialsValidateV2,
        {
          ...validation,
          sealedCredentials: this.sealer.seal(
            JSON.stringify(credentials),
            credentialsSealBinding(portalId, validation),
          ),
        },
        { portalId },
      );
    });
    this.logger.log(
      { requestId, provider: credentials.provider, portalId: request.portalId },
      'credentials check sent',
    );
    const answer = await this.waitForAnswer(requestId);
    if (answer === undefined) {
      await this.dataSource.transaction((manager) => this.checks.abandon(manager, requestId));
      return { status: 'timeout', requestId };
    }
    if (answer.state === 'INVALID') {
      return {
        status: 'invalid',
        requestId,
        code: answer.error?.code ?? 'invalid-credentials',
        message: answer.error?.message ?? 'The provider refused these credentials.',
      };
    }
    if (answer.deliveryIdentifier === undefined) {
      return {
        status: 'invalid',
        requestId,
        code: 'no-delivery-identifier',
        message: 'The connector accepted the credentials but did not say which address they belong to.',
      };
    }
    return {
      status: 'valid',
      requestId,
      accountName: answer.accountName ?? answer.deliveryIdentifier.value,
      deliveryIdentifier: answer.deliveryIdentifier,
    };
  }

  private async waitForAnswer(requestId: string): Promise<CredentialCheck | undefined> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const check = await this.checks.find(this.dataSource.manager, requestId);
      if (check !== undefined && check.state !== 'PENDING') {
        return check;
      }
      if (Date.now() >= deadline) {
        return undefined;
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))),
      );
    }
  }
}
