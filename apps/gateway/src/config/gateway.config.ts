import { commonConfigSchema, loadConfig, port, type Env } from '@inbox-bridge/service-kit';
import type { z } from 'zod';

/** The gateway's environment: the common variables; HubSpot settings arrive with the features using them. */
export const gatewayConfigSchema = commonConfigSchema.extend({ PORT: port().default(3000) });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable. */
export const loadGatewayConfig = (env: Env): GatewayConfig => loadConfig(gatewayConfigSchema, env);
