import {
  APP_CONFIG,
  DomainError,
  parseAdminTokens,
  portalOfBearer,
  type AdminTokenEntry,
} from '@inbox-bridge/service-kit';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { GatewayConfig } from '../config/gateway.config.js';

/**
 * `/admin/portals/:portalId/…`: admits a bearer token of `ADMIN_TOKENS` only on its own portal's path. No or an
 * unknown token (the ops token included) → 401; another portal's token → 403, so one portal's admin cannot act in
 * another portal.
 */
@Injectable()
export class PortalAdminGuard implements CanActivate {
  private readonly tokens: readonly AdminTokenEntry[];

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.tokens = parseAdminTokens(config.ADMIN_TOKENS);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const tokenPortalId = portalOfBearer(this.tokens, request.get('authorization'));
    if (tokenPortalId === undefined) {
      throw new DomainError(
        'UNAUTHORIZED',
        "a bearer token of this portal's admin (ADMIN_TOKENS) is required (Authorization header)",
        { httpStatus: 401 },
      );
    }
    if (request.params['portalId'] !== String(tokenPortalId)) {
      throw new DomainError('FORBIDDEN', 'this admin token belongs to another portal', { httpStatus: 403 });
    }
    return true;
  }
}
