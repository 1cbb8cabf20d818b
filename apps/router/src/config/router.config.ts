import { commonConfigSchema, loadConfig, port, type Env } from '@inbox-bridge/service-kit';
import type { z } from 'zod';

/** The router's environment: the common variables; routing settings arrive with the features using them. */
export const routerConfigSchema = commonConfigSchema.extend({ PORT: port().default(3002) });

export type RouterConfig = z.output<typeof routerConfigSchema>;

/** Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable. */
export const loadRouterConfig = (env: Env): RouterConfig => loadConfig(routerConfigSchema, env);
