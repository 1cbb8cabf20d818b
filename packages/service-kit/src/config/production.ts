import type { ConfigProblem } from './config-validation.error.js';
import type { Env } from './load-config.js';
import { displayValue } from './redact-config.js';

/** `NODE_ENV` as the common schema reads it: unset or empty means production. */
export function isProductionEnv(env: Env): boolean {
  const nodeEnv = env.NODE_ENV?.trim() ?? '';
  return nodeEnv === '' || nodeEnv === 'production';
}

/**
 * Secrets production must set itself: one problem per variable unset, or holding its development default (which is
 * in this repository, so anyone could use it). `isDevDefault` gets the trimmed value, never shown in the problem.
 */
export function devDefaultProblems(
  env: Env,
  secrets: readonly (readonly [variable: string, isDevDefault: (value: string) => boolean])[],
): ConfigProblem[] {
  if (!isProductionEnv(env)) {
    return [];
  }
  return secrets.flatMap(([variable, isDevDefault]): ConfigProblem[] => {
    const value = env[variable]?.trim() ?? '';
    if (value === '') {
      return [
        { variable, reason: 'required when NODE_ENV is production (the default is for development only)' },
      ];
    }
    return isDevDefault(value)
      ? [{ variable, reason: 'must not hold the development default when NODE_ENV is production' }]
      : [];
  });
}

/**
 * Origins production must name itself, over TLS: their defaults are the local sandboxes over plain HTTP, and a
 * public origin left to be derived from the Host header is `http://` behind a TLS-terminating proxy. One problem
 * per variable unset or `http://`; any other value that is not an https URL is left to its field to report.
 */
export function httpsOriginProblems(env: Env, variables: readonly string[]): ConfigProblem[] {
  if (!isProductionEnv(env)) {
    return [];
  }
  return variables.flatMap((variable): ConfigProblem[] => {
    const value = env[variable]?.trim() ?? '';
    if (value === '') {
      return [
        {
          variable,
          reason:
            'required when NODE_ENV is production, as an https:// URL (the default is for development only)',
        },
      ];
    }
    if (URL.canParse(value) && new URL(value).protocol === 'http:') {
      return [
        {
          variable,
          reason: 'must be an https:// URL when NODE_ENV is production',
          received: displayValue(value),
        },
      ];
    }
    return [];
  });
}
