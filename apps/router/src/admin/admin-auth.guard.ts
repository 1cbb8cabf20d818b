import { DomainError } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { portalOfToken, type AdminTokenEntry } from './admin-tokens.js';

export const ADMIN_TOKENS = Symbol('ADMIN_TOKENS');

interface AuthenticatedRequest extends Request {
  adminPortalId?: number;
}

export class AdminUnauthorizedError extends DomainError<'UNAUTHORIZED'> {
  constructor() {
    super('UNAUTHORIZED', 'A valid admin bearer token is required.', { httpStatus: 401 });
  }
}

/** The bearer token (`Authorization: Bearer …`), or for the settings page a `token` query or form field. */
function tokenOf(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) {
    return header.slice('Bearer '.length).trim();
  }
  const query: unknown = request.query['token'];
  if (typeof query === 'string') {
    return query;
  }
  const body: unknown = request.body;
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Record<string, unknown>)['token'] === 'string'
  ) {
    return (body as Record<string, string>)['token'];
  }
  return undefined;
}

/** Admits a request whose token belongs to a portal, and scopes it to that portal. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(@Inject(ADMIN_TOKENS) private readonly tokens: readonly AdminTokenEntry[]) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = tokenOf(request);
    const portalId = token === undefined || token === '' ? undefined : portalOfToken(this.tokens, token);
    if (portalId === undefined) {
      throw new AdminUnauthorizedError();
    }
    request.adminPortalId = portalId;
    return true;
  }
}

/** The portal the request's token is scoped to (set by `AdminAuthGuard`). */
export const AdminPortal = createParamDecorator((_: unknown, context: ExecutionContext): number => {
  const portalId = context.switchToHttp().getRequest<AuthenticatedRequest>().adminPortalId;
  if (portalId === undefined) {
    throw new AdminUnauthorizedError();
  }
  return portalId;
});
