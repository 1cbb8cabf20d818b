import {
  booleanFlag,
  durationMs,
  loadConfig,
  logLevel,
  port,
  positiveInt,
  positiveNumber,
  type Env,
} from '@inbox-bridge/service-kit';
import { z } from 'zod';

/**
 * The sandbox's environment. No database, no broker: everything lives in memory and is lost on restart.
 * `SANDBOX_TIME_SCALE` multiplies every provider-side delay (webhook retry back-off); `0.01` makes a 1 s
 * Telegram retry happen after 10 ms.
 */
export const sandboxConfigSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'], { error: 'expected development, test or production' })
    .default('development'),
  PORT: port().default(4020),
  LOG_LEVEL: logLevel().default('info'),
  SANDBOX_TIME_SCALE: positiveNumber().default(1),
  /**
   * Accept `http:` webhook URLs on any port for local stacks without TLS (the real API only takes HTTPS on 80,
   * 88, 443, 8443). `TELEGRAM_ALLOW_INSECURE_WEBHOOKS` is the older name of the same switch; either enables it.
   */
  SANDBOX_ALLOW_HTTP_WEBHOOKS: booleanFlag().default(false),
  TELEGRAM_ALLOW_INSECURE_WEBHOOKS: booleanFlag().default(false),
  /** Enforce the documented flood limits (429 with `retry_after`). */
  TELEGRAM_RATE_LIMITS: booleanFlag().default(true),
  /** Sends per second per chat, and how many may burst before a 429. */
  TELEGRAM_CHAT_RATE_PER_SECOND: positiveInt({ max: 1000 }).default(1),
  TELEGRAM_CHAT_BURST: positiveInt({ max: 1000 }).default(3),
  /** Sends per second per bot across all chats (burst of the same size). */
  TELEGRAM_GLOBAL_RATE_PER_SECOND: positiveInt({ max: 100_000 }).default(30),
  /** How long the sandbox waits for a webhook receiver to answer before counting a failure (real time). */
  TELEGRAM_WEBHOOK_TIMEOUT_MS: durationMs().default(10_000),
  /** How long an undelivered update is kept (Telegram: 24 h), in sandbox time (scaled). */
  TELEGRAM_UPDATE_TTL_MS: durationMs().default(86_400_000),
  /** How long Twilio waits for a webhook / status callback receiver to answer (15 s; real time). */
  TWILIO_WEBHOOK_TIMEOUT_MS: durationMs().default(15_000),
  /** Provider time from `queued` to `sent`, and from `sent` to the final status (scaled). */
  TWILIO_SEND_DELAY_MS: durationMs().default(1_000),
  TWILIO_DELIVERY_DELAY_MS: durationMs().default(3_000),
  /**
   * Entries kept per inspection log (Bot API calls and webhook attempts per bot, Twilio webhook attempts); the
   * oldest are dropped; 0 records none (benchmarks; the customer page then shows no delivery state).
   */
  SANDBOX_RECORD_LIMIT: z
    .string()
    .trim()
    .refine((value) => /^\d+$/.test(value) && Number.isSafeInteger(Number(value)), {
      error: 'expected an integer ≥ 0',
    })
    .transform(Number)
    .default(10_000),
  /** JSON request logs (pino-http); `false` drops the logging middleware (benchmarks). */
  SANDBOX_REQUEST_LOGS: booleanFlag().default(true),
});

export type SandboxConfig = z.output<typeof sandboxConfigSchema>;

/** Validates `env` once; throws a `ConfigValidationError` naming every bad variable. */
export const loadSandboxConfig = (env: Env): SandboxConfig => loadConfig(sandboxConfigSchema, env);

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');
