import { describe, expect, it } from '@jest/globals';
import { commonConfigSchema } from './common-config.js';
import { EXIT_CODE_CONFIG_ERROR, failFastOnConfigError, type FailFastIo } from './fail-fast.js';
import { loadConfig } from './load-config.js';

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit(${code})`);
  }
}

function fakeIo(): FailFastIo & { stderr: string[]; exitCode?: number } {
  const io: FailFastIo & { stderr: string[]; exitCode?: number } = {
    stderr: [],
    writeStderr: (text) => {
      io.stderr.push(text);
    },
    exit: (code) => {
      io.exitCode = code;
      throw new ExitCalled(code);
    },
    now: () => 0,
  };
  return io;
}

describe('failFastOnConfigError', () => {
  it('prints a readable block and one JSON line to stderr, then exits 78', () => {
    const io = fakeIo();
    expect(() =>
      failFastOnConfigError(
        () => loadConfig(commonConfigSchema, { PORT: 'abc', AMQP_URL: 'amqp://u:hunter2@h' }),
        io,
      ),
    ).toThrow(ExitCalled);
    expect(io.exitCode).toBe(EXIT_CODE_CONFIG_ERROR);
    const [block, jsonLine] = io.stderr;
    expect(block).toContain('Invalid configuration:');
    expect(block).toContain('  - DATABASE_URL: required');
    expect(block).toContain('  - PORT: expected a number between 1 and 65535, got "abc"');
    expect(io.stderr.join('')).not.toContain('hunter2');
    const log = JSON.parse(jsonLine!) as { level: number; code: string; problems: { variable: string }[] };
    expect(log.level).toBe(60);
    expect(log.code).toBe('CONFIG_INVALID');
    expect(log.problems.map((problem) => problem.variable)).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'DATABASE_SCHEMA',
        'PORT',
        'ENCRYPTION_KEYS',
        'ENCRYPTION_ACTIVE_KEY_ID',
      ]),
    );
    expect(jsonLine!.endsWith('\n')).toBe(true);
  });

  it('returns the value when config is valid and rethrows other errors untouched', async () => {
    const io = fakeIo();
    expect(failFastOnConfigError(() => 42, io)).toBe(42);
    const boom = new Error('boom');
    expect(() =>
      failFastOnConfigError(() => {
        throw boom;
      }, io),
    ).toThrow(boom);
    await expect(failFastOnConfigError(() => Promise.reject(boom), io)).rejects.toBe(boom);
    expect(io.exitCode).toBeUndefined();
  });

  it('handles async functions', async () => {
    const io = fakeIo();
    await expect(
      failFastOnConfigError(() => Promise.resolve().then(() => loadConfig(commonConfigSchema, {})), io),
    ).rejects.toThrow(ExitCalled);
    expect(io.exitCode).toBe(78);
  });
});
