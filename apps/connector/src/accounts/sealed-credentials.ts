import { PermanentError } from '@inbox-bridge/messaging';
import { APP_CONFIG, TransitSealError, TransitUnsealer } from '@inbox-bridge/service-kit';
import {
  credentialsSealBinding,
  providerCredentialsSchema,
  type ConnectorCredentialsValidateV2,
  type MessageEnvelope,
  type ProviderCredentials,
} from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { ConnectorConfig } from '../config/connector.config.js';

/** A credentials check as the connector runs it: what v2 carries, the credentials opened (what v1 carried). */
export type CredentialsCheckRequest = Omit<ConnectorCredentialsValidateV2, 'sealedCredentials'> & {
  readonly credentials: ProviderCredentials;
};

/**
 * Opens the credentials the gateway sealed for the connector (`connector.credentials.validate.v2`), only for the
 * request and portal they were sealed for. Every refusal is a permanent error (the message is dead-lettered with
 * its reason) whose message names what was wrong, never what the sealed value holds.
 */
@Injectable()
export class SealedCredentials {
  private readonly unsealer: TransitUnsealer;

  constructor(@Inject(APP_CONFIG) config: ConnectorConfig) {
    this.unsealer = TransitUnsealer.fromConfig(
      'CREDENTIALS_TRANSIT_PRIVATE_KEYS',
      config.CREDENTIALS_TRANSIT_PRIVATE_KEYS,
    );
  }

  open(envelope: MessageEnvelope<'connector.credentials.validate.v2'>): CredentialsCheckRequest {
    const { sealedCredentials, ...request } = envelope.payload;
    let opened: string;
    try {
      opened = this.unsealer.unseal(sealedCredentials, credentialsSealBinding(envelope.portalId, request));
    } catch (error) {
      if (error instanceof TransitSealError) {
        throw new PermanentError(
          `sealed credentials of request ${request.requestId} not opened: ${error.message}${error.code === 'UNKNOWN_KEY_ID' ? ' (CREDENTIALS_TRANSIT_PRIVATE_KEYS lacks the key of the gateway’s CREDENTIALS_TRANSIT_PUBLIC_KEY)' : ''}`,
          'CREDENTIALS_NOT_OPENED',
        );
      }
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(opened);
    } catch {
      // JSON.parse's own message quotes the text it could not read.
      throw new PermanentError(
        `sealed credentials of request ${request.requestId} are not JSON`,
        'CREDENTIALS_MALFORMED',
      );
    }
    const credentials = providerCredentialsSchema.safeParse(parsed);
    if (!credentials.success) {
      const fields = credentials.error.issues.map((issue) => issue.path.join('.') || '(credentials)');
      throw new PermanentError(
        `sealed credentials of request ${request.requestId} are not valid ${request.provider} credentials (fields: ${[...new Set(fields)].join(', ')})`,
        'CREDENTIALS_MALFORMED',
      );
    }
    if (credentials.data.provider !== request.provider) {
      throw new PermanentError(
        `sealed credentials of request ${request.requestId} are for ${credentials.data.provider}, not ${request.provider}`,
        'PROVIDER_MISMATCH',
      );
    }
    return { ...request, credentials: credentials.data };
  }
}
