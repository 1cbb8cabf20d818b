import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { GatewayConfig } from '../config/gateway.config.js';
import { verifyV3, type SignatureVerdict } from './hubspot-signature.js';

export const SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';

/** Checks signature v3 of a request against the public URL HubSpot called and the raw body bytes. */
@Injectable()
export class HubSpotSignatureVerifier {
  private readonly secret: string;
  private readonly publicBaseUrl: string | undefined;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.secret = config.HUBSPOT_CLIENT_SECRET;
    this.publicBaseUrl = config.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  }

  verify(request: Request & { rawBody?: Buffer }, now = Date.now()): SignatureVerdict {
    return verifyV3(
      this.secret,
      {
        method: request.method,
        url: this.publicUrl(request),
        rawBody: request.rawBody ?? Buffer.alloc(0),
        timestamp: request.get(TIMESTAMP_HEADER),
        signature: request.get(SIGNATURE_HEADER),
      },
      now,
    );
  }

  /** `PUBLIC_BASE_URL` + the path and query as received; without it, the request's own scheme and Host. */
  publicUrl(request: Request): string {
    const base = this.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
    return `${base}${request.originalUrl}`;
  }
}
