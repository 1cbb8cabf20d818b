export interface ConfigProblem {
  /** Environment variable name. */
  readonly variable: string;
  readonly reason: string;
  /** The offending value as it may be shown: `undefined` for secrets and missing variables. */
  readonly received?: string;
}

/** Thrown by `loadConfig` with every invalid or missing variable at once; secret values are never included. */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  readonly code = 'CONFIG_INVALID';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map(
    ({ variable, reason, received }) =>
      `  - ${variable}: ${reason}${received === undefined ? '' : `, got ${JSON.stringify(received)}`}`,
  );
  return ['Invalid configuration:', ...lines].join('\n');
}
