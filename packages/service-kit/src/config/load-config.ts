import type { z } from 'zod';
import { parseEncryptionKeys } from '../crypto/encryption-keys.js';
import { ConfigValidationError, type ConfigProblem } from './config-validation.error.js';
import { isSensitiveField } from './fields.js';
import { displayValue } from './redact-config.js';

export type ConfigSchema = z.ZodObject;
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment against `schema` once, at startup, and returns the typed config. Empty strings
 * count as unset. Throws `ConfigValidationError` naming every bad or missing variable, after those the schema finds
 * the `crossProblems` a service found across variables (production rules, pairs set together).
 */
export function loadConfig<S extends ConfigSchema>(
  schema: S,
  env: Env = process.env,
  crossProblems: readonly ConfigProblem[] = [],
): z.output<S> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    input[key] = value === '' ? undefined : value;
  }

  const problems = new Map<string, string[]>();
  const addProblem = (variable: string, reason: string) => {
    problems.set(variable, [...(problems.get(variable) ?? []), reason]);
  };

  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? '(config)');
      addProblem(variable, input[variable] === undefined ? 'required' : issue.message);
    }
  }
  checkActiveEncryptionKey(input, shape, problems, addProblem);

  if (problems.size > 0 || !result.success || crossProblems.length > 0) {
    throw new ConfigValidationError([
      ...[...problems].map(([variable, reasons]): ConfigProblem => {
        const field = shape[variable];
        const raw = input[variable];
        const received =
          raw === undefined || field === undefined || isSensitiveField(field) ? undefined : displayValue(raw);
        return {
          variable,
          reason: [...new Set(reasons)].join('; '),
          ...(received === undefined ? {} : { received }),
        };
      }),
      ...crossProblems,
    ]);
  }
  return result.data;
}

/** Cross-field rule the per-field schemas cannot express: the active key id must be in the key ring. */
function checkActiveEncryptionKey(
  input: Record<string, string | undefined>,
  shape: Record<string, z.ZodType>,
  problems: ReadonlyMap<string, string[]>,
  addProblem: (variable: string, reason: string) => void,
): void {
  const keys = input.ENCRYPTION_KEYS;
  const activeId = input.ENCRYPTION_ACTIVE_KEY_ID?.trim();
  if (
    !('ENCRYPTION_KEYS' in shape && 'ENCRYPTION_ACTIVE_KEY_ID' in shape) ||
    keys === undefined ||
    activeId === undefined ||
    problems.has('ENCRYPTION_KEYS') ||
    problems.has('ENCRYPTION_ACTIVE_KEY_ID')
  ) {
    return;
  }
  const ring = parseEncryptionKeys(keys);
  if (!ring.has(activeId)) {
    addProblem(
      'ENCRYPTION_ACTIVE_KEY_ID',
      `must be one of the key ids in ENCRYPTION_KEYS (${[...ring.keys()].join(', ')})`,
    );
  }
}
