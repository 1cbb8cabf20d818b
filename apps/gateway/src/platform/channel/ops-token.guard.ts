import { APP_CONFIG, DomainError } from '@inbox-bridge/service-kit';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayConfig } from '../../config/gateway.config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** `Authorization: Bearer <OPS_API_TOKEN>`, compared in constant time; no token configured → nobody passes. */
@Injectable()
export class OpsTokenGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const header = request.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    const expected = this.config.OPS_API_TOKEN;
    // Digests have equal lengths, so the comparison time does not depend on the given token.
    if (
      expected === undefined ||
      match?.[1] === undefined ||
      !timingSafeEqual(digest(match[1]), digest(expected))
    ) {
      throw new DomainError('UNAUTHORIZED', 'a valid ops bearer token is required (Authorization header)', {
        httpStatus: 401,
      });
    }
    return true;
  }
}
