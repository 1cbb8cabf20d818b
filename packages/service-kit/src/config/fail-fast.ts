import { ConfigValidationError } from './config-validation.error.js';

/** EX_CONFIG from sysexits.h: "configuration error". */
export const EXIT_CODE_CONFIG_ERROR = 78;

export interface FailFastIo {
  writeStderr(text: string): void;
  exit(code: number): void;
  now?(): number;
}

const processIo: FailFastIo = {
  writeStderr: (text) => process.stderr.write(text),
  exit: (code) => process.exit(code),
};

/**
 * Runs `fn` (typically `() => loadConfig(schema)`) and, on a `ConfigValidationError`, prints a readable
 * block plus one JSON log line to stderr and exits with 78. Other errors are rethrown untouched.
 * Works for synchronous and promise-returning `fn`.
 */
export function failFastOnConfigError<T>(fn: () => T, io: FailFastIo = processIo): T {
  const handle = (error: unknown): never => {
    if (error instanceof ConfigValidationError) {
      reportAndExit(error, io);
    }
    throw error;
  };
  let result: T;
  try {
    result = fn();
  } catch (error) {
    return handle(error);
  }
  if (result instanceof Promise) {
    return result.catch(handle) as T;
  }
  return result;
}

function reportAndExit(error: ConfigValidationError, io: FailFastIo): void {
  const logLine = {
    level: 60,
    time: io.now?.() ?? Date.now(),
    code: error.code,
    problems: error.problems.map(({ variable, reason }) => ({ variable, reason })),
    msg: 'invalid configuration, refusing to start',
  };
  io.writeStderr(`\n${error.message}\n\n`);
  io.writeStderr(`${JSON.stringify(logLine)}\n`);
  io.exit(EXIT_CODE_CONFIG_ERROR);
}
