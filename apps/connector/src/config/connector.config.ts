import { commonConfigSchema, loadConfig, port, type Env } from '@inbox-bridge/service-kit';
import type { z } from 'zod';

/** The connector's environment: the common variables; provider settings arrive with the providers. */
export const connectorConfigSchema = commonConfigSchema.extend({ PORT: port().default(3001) });

export type ConnectorConfig = z.output<typeof connectorConfigSchema>;

/** Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable. */
export const loadConnectorConfig = (env: Env): ConnectorConfig => loadConfig(connectorConfigSchema, env);
