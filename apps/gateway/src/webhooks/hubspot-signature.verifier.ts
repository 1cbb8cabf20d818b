import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../config/gateway.config.js';
import { verifyV3, type SignatureVerdict } from './hubspot-signature.js';

export const SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';

/** A request as received: what signature v3 covers, whichever HTTP layer served it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly encrypted: boolean;
  readonly rawBody: Buffer | undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Checks signature v3 of a request against the public URL HubSpot called and the raw body bytes. */
@Injectable()
export class HubSpotSignatureVerifier {
  private readonly secret: string;
  private readonly publicBaseUrl: string | undefined;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.secret = config.HUBSPOT_CLIENT_SECRET;
    this.publicBaseUrl = config.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  }

  /** For Express requests (controllers and the body-parse error handler). */
  verify(request: Request & { rawBody?: Buffer }, now = Date.now()): SignatureVerdict {
    return this.verifyReceived(
      {
        method: request.method,
        url: request.originalUrl,
        headers: request.headers,
        encrypted: request.protocol === 'https',
        rawBody: request.rawBody,
      },
      now,
    );
  }

  verifyReceived(request: ReceivedRequest, now = Date.now()): SignatureVerdict {
    return verifyV3(
      this.secret,
      {
        method: request.method,
        url: this.publicUrl(request),
        rawBody: request.rawBody ?? Buffer.alloc(0),
        timestamp: header(request.headers, TIMESTAMP_HEADER),
        signature: header(request.headers, SIGNATURE_HEADER),
      },
      now,
    );
  }

  /** `PUBLIC_BASE_URL` + the path and query as received; without it, the request's own scheme and Host. */
  publicUrl(request: Pick<ReceivedRequest, 'url' | 'headers' | 'encrypted'>): string {
    const base =
      this.publicBaseUrl ??
      `${request.encrypted ? 'https' : 'http'}://${header(request.headers, 'host') ?? 'localhost'}`;
    return `${base}${request.url}`;
  }
}
