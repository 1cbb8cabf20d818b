import type { Request } from 'express';

/** `PUBLIC_BASE_URL` when set (behind a proxy), else the origin the request came to. */
export function publicBaseUrl(configured: string | undefined, request: Request): string {
  if (configured !== undefined) {
    return configured.replace(/\/+$/, '');
  }
  return `${request.protocol}://${request.get('host') ?? 'localhost'}`;
}
