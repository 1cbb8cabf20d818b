import { expectEventually } from '@inbox-bridge/testing';
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx/esm');

describe('a shutdown that never finishes', () => {
  it('ends the process with exit code 1 after the drain deadline and a margin, saying why', async () => {
    const output: string[] = [];
    const child = spawn(
      process.execPath,
      [
        '--conditions=@inbox-bridge/source',
        '--import',
        tsxLoader,
        join(here, 'processes', 'hanging-shutdown.ts'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString('utf8'));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await expectEventually(() => output.join('').includes('listening'), {
        timeoutMs: 30_000,
        description: 'the service listening',
      });
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      const tookMs = Date.now() - signalledAt;
      expect(code).toBe(1);
      // 200 ms of drain deadline + the 15 s margin; never the endless wait.
      expect(tookMs).toBeGreaterThanOrEqual(15_000);
      expect(tookMs).toBeLessThan(40_000);
      expect(output.join('')).toContain('shutdown did not finish in time');
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
