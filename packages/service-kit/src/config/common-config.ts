import { z } from 'zod';
import {
  amqpUrl,
  durationMs,
  encryptionKeys,
  logLevel,
  nonEmptyString,
  port,
  positiveInt,
  postgresUrl,
  sqlIdentifier,
} from './fields.js';

/** The variables every service reads; services `.extend()` it with their own. */
export const commonConfigSchema = z.object({
  SERVICE_NAME: nonEmptyString().optional(),
  NODE_ENV: z
    .enum(['development', 'test', 'production'], { error: 'expected development, test or production' })
    .default('production'),
  /** HTTP port (API, webhooks, health and metrics). */
  PORT: port().default(3000),
  LOG_LEVEL: logLevel().default('info'),
  DATABASE_URL: postgresUrl(),
  /** The service's own PostgreSQL schema; migrations and tables live there. */
  DATABASE_SCHEMA: sqlIdentifier(),
  DATABASE_POOL_SIZE: positiveInt({ max: 1000 }).default(10),
  AMQP_URL: amqpUrl(),
  AMQP_PREFETCH: positiveInt({ max: 65535 }).default(20),
  /** How long in-flight work may take to finish on SIGTERM before the connections are closed. */
  SHUTDOWN_DRAIN_TIMEOUT_MS: durationMs().default(20_000),
  /** `keyId:base64-32-bytes[,keyId:base64...]`: every key that may still be needed to decrypt. */
  ENCRYPTION_KEYS: encryptionKeys(),
  /** The key id new ciphertexts are written with; must be one of ENCRYPTION_KEYS. */
  ENCRYPTION_ACTIVE_KEY_ID: nonEmptyString(),
});

export type CommonConfig = z.output<typeof commonConfigSchema>;
