import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { InjectedFault } from '../control/control.types.js';
import { SettingsStore } from '../control/settings.store.js';
import { TokenService } from '../oauth/token.service.js';
import { AppStore } from '../store/app.store.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * In front of every emulated HubSpot route: injected faults (latency, errors, held and dropped connections, served requests
 * whose answer is lost or late), the per-portal-and-app
 * rate limit with its `X-HubSpot-RateLimit-*` headers and 429 (§6.2), and the call log per portal.
 */
@Injectable()
export class ApiTrafficMiddleware implements NestMiddleware {
  constructor(
    private readonly settings: SettingsStore,
    private readonly tokens: TokenService,
    private readonly apps: AppStore,
    private readonly limiter: RateLimiter,
  ) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const started = Date.now();
    const principal = this.principal(req);
    let recorded = false;
    const record = (status: number, injected?: InjectedFault): void => {
      if (recorded || !this.settings.recordsCalls) {
        return;
      }
      recorded = true;
      const oauth = req.path.startsWith('/oauth/');
      this.settings.record({
        at: new Date(started).toISOString(),
        method: req.method,
        path: req.path.replace(TOKEN_IN_PATH, '$1***'),
        query: masked(req.query, oauth ? OAUTH_SECRET_FIELDS : ['hapikey']) ?? {},
        ...(principal.portalId === undefined ? {} : { portalId: principal.portalId }),
        ...(principal.appId === undefined ? {} : { appId: principal.appId }),
        status,
        durationMs: Date.now() - started,
        ...(req.body === undefined || !this.settings.callLog.bodies
          ? {}
          : { body: oauth ? masked(req.body, OAUTH_SECRET_FIELDS) : (req.body as unknown) }),
        ...(injected === undefined ? {} : { fault: injected }),
      });
    };

    const fault = this.settings.decideFault(req.method, req.path);
    res.on('finish', () => {
      record(res.statusCode, fault?.fault === 'error' ? 'error' : undefined);
    });
    if (fault !== undefined && fault.latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    }
    if (fault?.fault === 'drop' || fault?.fault === 'timeout') {
      // No HTTP answer: the socket is destroyed now, or held and destroyed after `holdMs`.
      record(0, fault.fault);
      if (fault.fault === 'drop') {
        req.socket.destroy();
      } else {
        this.settings.hold(req.socket, fault.holdMs);
      }
      return;
    }

    if (principal.rateKey !== undefined && SEARCH_PATH.test(req.path)) {
      // The CRM Search API has its own per-account limit (about 5/s) and sends no rate-limit headers (§6.1, §6.2).
      const { max, intervalMs } = this.settings.searchRateLimit;
      if (max > 0 && !this.limiter.take(`search:${principal.rateKey}`, max, intervalMs).allowed) {
        res.status(429).json(rateLimitBody('SECONDLY'));
        return;
      }
    } else if (principal.rateKey !== undefined && this.settings.rateLimit.max > 0) {
      const { max, intervalMs } = this.settings.rateLimit;
      const decision = this.limiter.take(principal.rateKey, max, intervalMs);
      res.setHeader('X-HubSpot-RateLimit-Max', String(decision.max));
      res.setHeader('X-HubSpot-RateLimit-Remaining', String(decision.remaining));
      res.setHeader('X-HubSpot-RateLimit-Interval-Milliseconds', String(decision.intervalMs));
      if (!decision.allowed) {
        res.status(429).json(rateLimitBody());
        return;
      }
    }

    if (fault?.fault === 'error') {
      const { status } = fault;
      res.status(status).json(
        status === 429
          ? rateLimitBody()
          : {
              status: 'error',
              message: `Injected fault: HTTP ${status}`,
              correlationId: randomUUID(),
              category: status >= 500 ? 'INTERNAL_ERROR' : 'ERROR',
            },
      );
      return;
    }
    if (fault?.fault === 'lost-answer' || fault?.fault === 'late-answer') {
      this.withholdAnswer(res, fault.fault, fault.holdMs, (status) => {
        record(status, fault.fault);
      });
    }
    next();
  }

  /**
   * The request is served as usual (its writes are stored); its answer is then never sent (`lost-answer`: the
   * socket is destroyed) or sent only after `holdMs` (`late-answer`). Every emulated route answers through
   * `res.end`, so that is where the answer is taken.
   */
  private withholdAnswer(
    res: Response,
    fault: 'lost-answer' | 'late-answer',
    holdMs: number,
    served: (status: number) => void,
  ): void {
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    const withheld = (...args: unknown[]): Response => {
      served(res.statusCode);
      const socket = res.req.socket;
      if (fault === 'lost-answer') {
        socket.destroy();
      } else {
        this.settings.hold(socket, holdMs, () => end(...args));
      }
      return res;
    };
    res.end = withheld as Response['end'];
  }

  private principal(req: Request): { portalId?: number; appId?: number; rateKey?: string } {
    const token = this.tokens.peek(req.headers.authorization);
    if (token !== undefined) {
      return {
        portalId: token.portalId,
        appId: token.appId,
        rateKey: `portal:${token.portalId}:app:${token.appId}`,
      };
    }
    const hapikey = req.query.hapikey;
    if (typeof hapikey === 'string') {
      const app = this.apps.list().find((candidate) => candidate.developerApiKeys.includes(hapikey));
      if (app !== undefined) {
        return { appId: app.appId, rateKey: `developer:${app.appId}` };
      }
    }
    return {};
  }
}

const SEARCH_PATH = /^\/crm\/v3\/objects\/[^/]+\/search\/?$/;

/** The legacy token-metadata paths carry the token itself (§4.2): kept in the call log as `***`. */
const TOKEN_IN_PATH = /^(\/oauth\/v1\/(?:access|refresh)-tokens\/)[^/]+/;
/** What an OAuth request's form or query holds that the call log must not keep. */
const OAUTH_SECRET_FIELDS = [
  'client_secret',
  'client_assertion',
  'code',
  'code_verifier',
  'refresh_token',
  'token',
];

/** `fields` that are set replaced by `***` in a plain object; anything else as it is. */
function masked(value: unknown, fields: readonly string[]): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const record = { ...(value as Record<string, unknown>) };
  for (const field of fields) {
    if (record[field] !== undefined) {
      record[field] = '***';
    }
  }
  return record;
}

export function rateLimitBody(
  policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' = 'TEN_SECONDLY_ROLLING',
): Record<string, string> {
  return {
    status: 'error',
    message:
      policy === 'SECONDLY'
        ? 'You have reached your secondly limit.'
        : 'You have reached your ten_secondly_rolling limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: policy,
    requestId: randomUUID(),
  };
}
