import { inClientSpan, type DrainState } from '@inbox-bridge/service-kit';
import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ExchangeFailed, HttpExchange, type Exchanged } from './http-exchange.js';
import {
  HubSpotApiError,
  type DeveloperHubSpotClient,
  type HubSpotApi,
  type HubSpotRequest,
  type HubSpotResponse,
  type HubSpotUpload,
  type PortalClientOptions,
  type PortalHubSpotClient,
} from './hubspot-api.js';
import {
  decideRetry,
  outcomeIsUnknown,
  parseRetryAfter,
  type AttemptOutcome,
  type RetryPolicySettings,
} from './hubspot-retry-policy.js';
import type { HubSpotMetrics } from './hubspot.metrics.js';
import { multipartStream } from './multipart-stream.js';
import { RateWaitExceeded, type PortalRateLimiter, type RateGrant } from './portal-rate-limiter.js';
import type { PortalTokens } from './portal-tokens.js';

export interface HubSpotClientSettings extends RetryPolicySettings {
  readonly baseUrl: string;
  readonly appId: string;
  readonly developerApiKey: string;
  readonly timeoutMs: number;
}

type Credential =
  | { readonly kind: 'portal'; readonly portalId: string; readonly maxRateWaitMs?: number | undefined }
  | { readonly kind: 'developer' };

interface HubSpotErrorBody {
  readonly category?: string;
  readonly message?: string;
  readonly correlationId?: string;
  readonly policyName?: string;
}

class AttemptFailed extends Error {
  constructor(
    readonly outcome: AttemptOutcome,
    readonly body: HubSpotErrorBody | undefined,
    cause: unknown,
  ) {
    super('attempt failed', { cause });
  }
}

interface AttemptInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string | ReadableStream<Uint8Array>;
  readonly timeoutMs: number;
}

const SEARCH_PATH = /^\/crm\/v3\/objects\/[^/]+\/search\/?$/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorBody(parsed: unknown): HubSpotErrorBody | undefined {
  if (typeof parsed !== 'object' || parsed === null) {
    return undefined;
  }
  const record = parsed as Record<string, unknown>;
  const text = (key: string): string | undefined =>
    typeof record[key] === 'string' ? record[key] : undefined;
  const category = text('category') ?? text('errorType');
  const message = text('message');
  const correlationId = text('correlationId');
  const policyName = text('policyName');
  return {
    ...(category === undefined ? {} : { category }),
    ...(message === undefined ? {} : { message }),
    ...(correlationId === undefined ? {} : { correlationId }),
    ...(policyName === undefined ? {} : { policyName }),
  };
}

/**
 * Every HubSpot call of the gateway (engineering notes §6.4): the portal's bearer token or the developer
 * key, the portal's rate budget shared by all replicas (PostgreSQL), 429 honoured (Retry-After or the
 * policy's window, pausing the portal's bucket), 5xx/timeouts/dropped connections retried with jittered
 * exponential backoff, one token refresh on a 401, other 4xx reported with HubSpot's category and message.
 * Plain HTTP (`HttpExchange`; `fetch` for streamed uploads) rather than `@hubspot/api-client`: its `apiRequest()`
 * (the only way to reach custom channels) never retries, and its limiter is process-wide (engineering notes §6.3).
 */
export class HttpHubSpotApi implements HubSpotApi {
  private readonly logger = new Logger('HubSpotApi');
  private readonly exchange = new HttpExchange();

  constructor(
    private readonly settings: HubSpotClientSettings,
    private readonly limiter: PortalRateLimiter,
    private readonly tokens: PortalTokens,
    private readonly metrics: HubSpotMetrics,
    /** The CRM Search API's own per-portal limit (about 5 per second, outside the 110 per 10 s). */
    private readonly searchLimiter: PortalRateLimiter = limiter,
    /**
     * Once the process drains (SIGTERM), a failed attempt is not tried again here and a back-off in progress is cut
     * short: a HubSpot that does not answer cannot hold the drain past its deadline; the caller gets a retryable
     * error and its message goes back to the broker.
     */
    private readonly drain?: DrainState,
  ) {}

  private draining(): boolean {
    return this.drain?.isDraining ?? false;
  }

  /** A retry's back-off, cut short when the process starts draining. */
  private wait(ms: number): Promise<void> {
    const drain = this.drain;
    if (drain === undefined) {
      return sleep(ms);
    }
    return new Promise((resolve) => {
      if (drain.isDraining) {
        resolve();
        return;
      }
      // Not draining yet, so neither callback runs before both are set up.
      const done = (): void => {
        clearTimeout(timer);
        stopListening();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stopListening = drain.onDrain(done);
    });
  }

  forPortal(portalId: string, options: PortalClientOptions = {}): PortalHubSpotClient {
    if (!/^\d{1,20}$/.test(portalId)) {
      throw new HubSpotApiError(`"${portalId}" is not a HubSpot portal id`, { retryable: false });
    }
    const credential: Credential = { kind: 'portal', portalId, maxRateWaitMs: options.maxRateWaitMs };
    const bucketKey = this.budget(credential, '').key;
    return {
      portalId,
      request: <T>(request: HubSpotRequest<T>) => this.execute<T>(credential, request),
      upload: <T>(upload: HubSpotUpload) => this.upload<T>(credential, upload),
      reserve: (calls: number) => this.limiter.reserve(bucketKey, calls),
      tokensWithin: (withinMs: number, manager: EntityManager) =>
        this.limiter.tokensWithin(bucketKey, withinMs, manager),
    };
  }

  developer(): DeveloperHubSpotClient {
    return { request: <T>(request: HubSpotRequest<T>) => this.execute<T>({ kind: 'developer' }, request) };
  }

  /** Which shared bucket a call draws from: the portal's, its search budget, or the developer key's. */
  private budget(credential: Credential, path: string): { limiter: PortalRateLimiter; key: string } {
    if (credential.kind === 'developer') {
      return { limiter: this.limiter, key: `developer:${this.settings.appId}` };
    }
    if (SEARCH_PATH.test(path)) {
      return { limiter: this.searchLimiter, key: `search:${credential.portalId}` };
    }
    return { limiter: this.limiter, key: `portal:${credential.portalId}` };
  }

  private url(credential: Credential, request: Pick<HubSpotRequest, 'path' | 'query'>): URL {
    if (!request.path.startsWith('/') || request.path.includes('..')) {
      throw new HubSpotApiError(`invalid HubSpot path ${request.path}`, { retryable: false });
    }
    const url = new URL(request.path, this.settings.baseUrl);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) {
        url.searchParams.set(key, String(value));
      }
    }
    if (credential.kind === 'developer') {
      url.searchParams.set('hapikey', this.settings.developerApiKey);
      url.searchParams.set('appId', this.settings.appId);
    }
    return url;
  }

  /** The call's place in its bucket's window; `done()` it when the call comes back, whatever the outcome. */
  private async acquire(credential: Credential, path: string, maxCallMs?: number): Promise<RateGrant> {
    const { limiter, key } = this.budget(credential, path);
    try {
      return await limiter.acquire(key, {
        maxWaitMs: credential.kind === 'portal' ? credential.maxRateWaitMs : undefined,
        maxCallMs,
      });
    } catch (error) {
      if (error instanceof RateWaitExceeded) {
        throw new HubSpotApiError(`HubSpot rate budget of ${error.bucketKey} exhausted for now`, {
          retryable: true,
          category: 'RATE_LIMIT',
        });
      }
      throw error;
    }
  }

  private async execute<T>(credential: Credential, request: HubSpotRequest<T>): Promise<HubSpotResponse<T>> {
    let refreshed = false;
    let outcomeUnknown = false;
    for (let attempt = 1; ; attempt += 1) {
      const timeoutMs = request.timeoutMs ?? this.settings.timeoutMs;
      const grant = await this.acquire(credential, request.path, timeoutMs);
      let token: string | undefined;
      try {
        token = credential.kind === 'portal' ? await this.tokens.accessToken(credential.portalId) : undefined;
        const headers: Record<string, string> = { accept: 'application/json' };
        if (token !== undefined) {
          headers['authorization'] = `Bearer ${token}`;
        }
        if (request.body !== undefined) {
          headers['content-type'] = 'application/json';
        }
        return await this.attempt<T>(
          this.url(credential, request),
          {
            method: request.method,
            headers,
            ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
            timeoutMs,
          },
          grant,
        );
      } catch (error) {
        if (!(error instanceof AttemptFailed)) {
          throw error;
        }
        const { outcome } = error;
        outcomeUnknown ||= outcomeIsUnknown(outcome);
        if (
          outcome.kind === 'response' &&
          outcome.status === 401 &&
          credential.kind === 'portal' &&
          !refreshed
        ) {
          refreshed = true;
          await this.tokens.refresh(credential.portalId, token);
          continue;
        }
        if (outcome.kind === 'response' && outcome.status === 401) {
          // Refused again with a fresh token: revoked or uninstalled. The next refresh tells which.
          this.logFailure(credential, request, attempt, error, false);
          throw this.toError(request, error, true, outcomeUnknown);
        }
        const decision = decideRetry(outcome, attempt, this.settings);
        const retryHere = decision.retry && !this.draining();
        this.logFailure(credential, request, attempt, error, retryHere);
        if (!decision.retry) {
          throw this.toError(request, error, decision.retryable, outcomeUnknown);
        }
        if (!retryHere) {
          throw this.toError(request, error, true, outcomeUnknown);
        }
        if (decision.pauseBucket) {
          const { limiter, key } = this.budget(credential, request.path);
          await limiter.pause(key, decision.delayMs);
        } else {
          await this.wait(decision.delayMs);
          if (this.draining()) {
            throw this.toError(request, error, true, outcomeUnknown);
          }
        }
        const { findIfDone } = request;
        if (findIfDone !== undefined && outcomeIsUnknown(outcome)) {
          const done = await this.resultIfDone(credential, request, findIfDone, error);
          if (done !== undefined) {
            return done;
          }
        }
      } finally {
        // Not sent at all (no token, say): its place frees like any other.
        grant.done();
      }
    }
  }

  /**
   * Whether the write of a failed attempt was carried out after all (`request.findIfDone`), as its answer. A
   * lookup that fails leaves the outcome unknown: the write is not sent again, the caller learns it may have
   * happened.
   */
  private async resultIfDone<T>(
    credential: Credential,
    request: HubSpotRequest<T>,
    findIfDone: () => Promise<T | undefined>,
    failure: AttemptFailed,
  ): Promise<HubSpotResponse<T> | undefined> {
    let found: T | undefined;
    try {
      found = await findIfDone();
    } catch (lookupError) {
      this.logger.warn(
        {
          portalId: credential.kind === 'portal' ? credential.portalId : undefined,
          method: request.method,
          path: request.path,
          error: lookupError instanceof Error ? lookupError.message : String(lookupError),
        },
        'HubSpot call with an unknown outcome: looking for its result failed; not sending it again',
      );
      throw this.toError(request, failure, true, true);
    }
    if (found === undefined) {
      return undefined;
    }
    this.logger.log(
      {
        portalId: credential.kind === 'portal' ? credential.portalId : undefined,
        method: request.method,
        path: request.path,
      },
      'HubSpot call whose answer was lost had been carried out: its result is used, the call is not repeated',
    );
    return { status: 200, body: found };
  }

  /**
   * A streamed upload cannot be replayed, so it gets one HTTP attempt (after the rate budget and a fresh
   * token); a retryable failure reaches the caller, whose message is retried with a new stream.
   */
  private async upload<T>(
    credential: Extract<Credential, { kind: 'portal' }>,
    upload: HubSpotUpload,
  ): Promise<HubSpotResponse<T>> {
    const timeoutMs = Math.max(this.settings.timeoutMs, 120_000);
    const grant = await this.acquire(credential, upload.path, timeoutMs);
    let token: string | undefined;
    try {
      token = await this.tokens.accessToken(credential.portalId);
      const { contentType, body } = multipartStream(upload.fields, upload.file);
      return await this.attempt<T>(
        this.url(credential, upload),
        {
          method: 'POST',
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            'content-type': contentType,
          },
          body,
          timeoutMs,
        },
        grant,
      );
    } catch (error) {
      if (!(error instanceof AttemptFailed)) {
        throw error;
      }
      const { outcome } = error;
      if (outcome.kind === 'response' && outcome.status === 401) {
        await this.tokens.refresh(credential.portalId, token);
      }
      if (outcome.kind === 'response' && outcome.status === 429) {
        const decision = decideRetry(outcome, 1, this.settings);
        if (decision.retry) {
          const { limiter, key } = this.budget(credential, upload.path);
          await limiter.pause(key, decision.delayMs);
        }
      }
      const retryable =
        outcome.kind !== 'response' || outcome.status === 401 || decideRetry(outcome, 1, this.settings).retry;
      this.logFailure(credential, { method: 'POST', path: upload.path }, 1, error, false);
      throw this.toError({ method: 'POST', path: upload.path }, error, retryable);
    } finally {
      grant.done();
    }
  }

  /** One HTTP attempt on its rate grant, which frees as soon as the attempt came back (or failed). */
  private async attempt<T>(url: URL, init: AttemptInit, grant: RateGrant): Promise<HubSpotResponse<T>> {
    try {
      return await inClientSpan(
        `HubSpot ${init.method}`,
        { 'http.request.method': init.method, 'server.address': url.hostname, 'url.path': url.pathname },
        () => this.send<T>(url, init),
        (response) => response.status,
      );
    } finally {
      grant.done();
    }
  }

  private async send<T>(url: URL, init: AttemptInit): Promise<HubSpotResponse<T>> {
    const stopTimer = this.metrics.duration.startTimer();
    let response: Exchanged;
    try {
      response =
        typeof init.body === 'object'
          ? await this.streamed(url, { ...init, body: init.body })
          : await this.exchange.send(url, { ...init, body: init.body });
    } catch (error) {
      stopTimer();
      const kind = error instanceof ExchangeFailed ? error.kind : 'network';
      this.metrics.requests.inc({ status: kind });
      throw new AttemptFailed({ kind }, undefined, error);
    }
    stopTimer();
    this.metrics.requests.inc({ status: String(response.status) });
    let parsed: unknown;
    try {
      parsed = response.text === '' ? undefined : JSON.parse(response.text);
    } catch {
      parsed = response.text;
    }
    if (response.status >= 200 && response.status < 300) {
      return { status: response.status, body: parsed as T };
    }
    const body = errorBody(parsed);
    if (response.status === 429) {
      this.metrics.rateLimited.inc({ scope: body?.policyName ?? 'unknown' });
    }
    const retryAfterMs = parseRetryAfter(response.retryAfter ?? null);
    throw new AttemptFailed(
      {
        kind: 'response',
        status: response.status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(body?.policyName === undefined ? {} : { policyName: body.policyName }),
      },
      body,
      undefined,
    );
  }

  /** An upload streams its body, which `fetch` does (`duplex: 'half'`). */
  private async streamed(
    url: URL,
    init: AttemptInit & { readonly body: ReadableStream<Uint8Array> },
  ): Promise<Exchanged> {
    try {
      const response = await fetch(url, {
        method: init.method,
        headers: init.headers,
        body: init.body,
        duplex: 'half',
        signal: AbortSignal.timeout(init.timeoutMs),
      });
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after') ?? undefined,
        text: await response.text(),
      };
    } catch (error) {
      // A DOMException from another realm is not `instanceof Error`: compare the name.
      const name = (error as { name?: unknown } | undefined)?.name;
      throw new ExchangeFailed(
        name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
        error,
      );
    }
  }

  private toError(
    request: Pick<HubSpotRequest, 'method' | 'path'>,
    failure: AttemptFailed,
    retryable: boolean,
    outcomeUnknown = false,
  ): HubSpotApiError {
    const { outcome, body } = failure;
    const what = outcome.kind === 'response' ? `answered ${outcome.status}` : `failed (${outcome.kind})`;
    return new HubSpotApiError(
      `HubSpot ${request.method} ${request.path} ${what}${body?.message === undefined ? '' : `: ${body.message}`}`,
      {
        ...(outcome.kind === 'response' ? { status: outcome.status } : {}),
        ...(body?.category === undefined ? {} : { category: body.category }),
        ...(body?.message === undefined ? {} : { hubspotMessage: body.message }),
        ...(body?.correlationId === undefined ? {} : { correlationId: body.correlationId }),
        retryable,
        ...(outcomeUnknown ? { outcomeUnknown } : {}),
      },
    );
  }

  private logFailure(
    credential: Credential,
    request: Pick<HubSpotRequest, 'method' | 'path'>,
    attempt: number,
    failure: AttemptFailed,
    willRetry: boolean,
  ): void {
    const fields = {
      portalId: credential.kind === 'portal' ? credential.portalId : undefined,
      method: request.method,
      path: request.path,
      attempt,
      outcome: failure.outcome,
      category: failure.body?.category,
      correlationId: failure.body?.correlationId,
      willRetry,
    };
    if (willRetry) {
      this.logger.warn(fields, 'HubSpot call failed; retrying');
    } else {
      this.logger.warn(fields, 'HubSpot call failed');
    }
  }
}
