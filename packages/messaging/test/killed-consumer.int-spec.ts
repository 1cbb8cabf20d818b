import { RoutingKeys } from '@inbox-bridge/shared';
import { expectEventually } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestBed, publishThroughOutbox, recordEffect, type TestBed } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
// tsx as a loader inside this one process (its CLI would fork a grandchild that SIGKILL does not reach).
const tsxLoader = createRequire(import.meta.url).resolve('tsx/esm');

function startDoomedConsumer(bed: TestBed): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(
    process.execPath,
    [
      // Workspace packages from their sources, as in the tests: nothing needs to be built first.
      '--conditions=@inbox-bridge/source',
      '--import',
      tsxLoader,
      join(here, 'processes', 'blocking-consumer.ts'),
      bed.vhost.url,
      bed.db.url,
      bed.db.schema,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout.on('data', (chunk: Buffer) =>
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean)),
  );
  return { child, output };
}

describe('a consumer process killed in the middle of a handler', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('gets its message redelivered to another instance, with exactly one effect', async () => {
    bed = await createTestBed('sigkill');
    const group = { name: 'test.killed', routingKeys: [RoutingKeys.ProviderMessageReceivedV1] };
    const { child, output } = startDoomedConsumer(bed);
    try {
      await expectEventually(() => output.includes('consuming'), {
        timeoutMs: 30_000,
        description: 'child ready',
      });
      const producer = await bed.startService({});
      const messageId = await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: '1' });
      await expectEventually(() => output.includes(`in-handler ${messageId}`), { timeoutMs: 20_000 });

      child.kill('SIGKILL'); // no ack, no commit: PostgreSQL rolls back, the broker requeues
      await new Promise((resolve) => child.once('exit', resolve));

      let redelivered: boolean | undefined;
      await bed.startService({
        groups: [group],
        handlers: {
          [RoutingKeys.ProviderMessageReceivedV1]: async (_e, ctx) => {
            redelivered = ctx.redelivered;
            await recordEffect(ctx, 'survivor');
          },
        },
      });
      await expectEventually(async () => {
        expect(await bed.effects()).toHaveLength(1);
      });
      expect((await bed.effects())[0]).toMatchObject({ consumer: 'survivor', message_id: messageId });
      expect(redelivered).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
