// A service whose shutdown never finishes (a close waiting on a connection that no longer answers), so a test
// can send it SIGTERM and watch the backstop end it. Prints "listening" once it serves.
import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createServiceApp } from '../../src/index.js';

@Injectable()
class NeverClosingConnection implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    // Like an open socket, the wait keeps the process alive.
    setInterval(() => undefined, 1_000);
    return new Promise<void>(() => undefined);
  }
}

@Module({ providers: [NeverClosingConnection] })
class HangingShutdownModule {}

const app = await createServiceApp(HangingShutdownModule, { config: { SHUTDOWN_DRAIN_TIMEOUT_MS: 200 } });
await app.listen(0, '127.0.0.1');
console.log('listening');
