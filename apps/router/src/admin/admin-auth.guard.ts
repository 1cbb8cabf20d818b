import {
  DomainError,
  portalOfBearer,
  type AdminTokenEntry,
  type SettingsLinkParams,
  type SettingsLinkSigner,
} from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';

export const ADMIN_TOKENS = Symbol('ADMIN_TOKENS');
/** The settings link signer, or null when SETTINGS_LINK_SECRET is unset. */
export const SETTINGS_LINK_SIGNER = Symbol('SETTINGS_LINK_SIGNER');

interface AuthenticatedRequest extends Request {
  adminPortalId?: number;
  settingsLink?: SettingsLinkParams;
}

export class AdminUnauthorizedError extends DomainError<'UNAUTHORIZED'> {
  constructor(message = 'A valid admin bearer token is required.') {
    super('UNAUTHORIZED', message, { httpStatus: 401 });
  }
}

/** `/admin/*`: admits a request whose bearer token belongs to a portal, and scopes it to that portal. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(@Inject(ADMIN_TOKENS) private readonly tokens: readonly AdminTokenEntry[]) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const portalId = portalOfBearer(this.tokens, request.headers.authorization);
    if (portalId === undefined) {
      throw new AdminUnauthorizedError();
    }
    request.adminPortalId = portalId;
    return true;
  }
}

/**
 * `/settings/:channelAccountId`: a bearer token, or a signed link for this very channel account (query
 * parameters on GET, the form's hidden fields on POST).
 */
@Injectable()
export class SettingsAuthGuard implements CanActivate {
  constructor(
    @Inject(ADMIN_TOKENS) private readonly tokens: readonly AdminTokenEntry[],
    @Inject(SETTINGS_LINK_SIGNER) private readonly signer: SettingsLinkSigner | null,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = portalOfBearer(this.tokens, request.headers.authorization);
    if (bearer !== undefined) {
      request.adminPortalId = bearer;
      return true;
    }
    const source: unknown = request.method === 'POST' ? request.body : request.query;
    const fields = (typeof source === 'object' && source !== null ? source : {}) as Record<string, unknown>;
    const check = this.signer?.verify({ ref: fields['ref'], exp: fields['exp'], sig: fields['sig'] });
    if (check === undefined || !check.ok) {
      throw new AdminUnauthorizedError(
        check?.reason === 'EXPIRED'
          ? 'This settings link has expired; open the settings again from HubSpot.'
          : 'A valid settings link or admin bearer token is required.',
      );
    }
    if (check.channelAccountId !== request.params['channelAccountId']) {
      throw new AdminUnauthorizedError('This settings link is for another channel account.');
    }
    request.adminPortalId = check.portalId;
    request.settingsLink = {
      ref: String(fields['ref']),
      exp: String(fields['exp']),
      sig: String(fields['sig']),
    };
    return true;
  }
}

/** The portal the request is scoped to (set by `AdminAuthGuard` or `SettingsAuthGuard`). */
export const AdminPortal = createParamDecorator((_: unknown, context: ExecutionContext): number => {
  const portalId = context.switchToHttp().getRequest<AuthenticatedRequest>().adminPortalId;
  if (portalId === undefined) {
    throw new AdminUnauthorizedError();
  }
  return portalId;
});

/** The signed-link parameters the settings page was opened with, to carry into its form (none for bearer). */
export const SettingsLink = createParamDecorator(
  (_: unknown, context: ExecutionContext): SettingsLinkParams | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().settingsLink,
);
