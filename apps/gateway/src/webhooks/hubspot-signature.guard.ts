import { DomainError } from '@inbox-bridge/service-kit';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';

export class InvalidHubSpotSignatureError extends DomainError<'HUBSPOT_SIGNATURE_INVALID'> {
  constructor() {
    super('HUBSPOT_SIGNATURE_INVALID', 'The HubSpot request signature is missing, stale or invalid.', {
      httpStatus: 401,
    });
  }
}

/** 401 unless `X-HubSpot-Signature-v3` matches, within 5 minutes of `X-HubSpot-Request-Timestamp`. */
@Injectable()
export class HubSpotSignatureGuard implements CanActivate {
  constructor(
    private readonly verifier: HubSpotSignatureVerifier,
    private readonly metrics: HubSpotWebhookMetrics,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request & { rawBody?: Buffer }>();
    if (this.verifier.verify(request) !== 'valid') {
      this.metrics.count('other', 'unauthorized');
      throw new InvalidHubSpotSignatureError();
    }
    return true;
  }
}
