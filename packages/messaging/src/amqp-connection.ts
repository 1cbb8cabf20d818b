import { connect, type ChannelModel } from 'amqplib';
import { EventEmitter } from 'node:events';
import type { MessagingLogger } from './logger.js';

export interface AmqpConnectionOptions {
  readonly url: string;
  /** Shown in the broker's connection list. */
  readonly connectionName: string;
  readonly logger: MessagingLogger;
  readonly reconnectInitialDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
  readonly heartbeatSeconds?: number;
}

type Listener = (model: ChannelModel) => void | Promise<void>;

/**
 * One AMQP connection that comes back by itself. Users register `onConnected` to (re)create their channels;
 * they must capture the channel of each delivery and never reuse a channel across reconnections
 * (engineering notes §3.3).
 */
export class AmqpConnection extends EventEmitter {
  private model: ChannelModel | undefined;
  private closing = false;
  private blocked = false;
  private attempt = 0;
  private readonly listeners_: Listener[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: AmqpConnectionOptions) {
    super();
  }

  get isConnected(): boolean {
    return this.model !== undefined;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  get current(): ChannelModel | undefined {
    return this.model;
  }

  /** Registers a setup callback, run now if connected and after every reconnection. */
  onConnected(listener: Listener): void {
    this.listeners_.push(listener);
    if (this.model) {
      void this.runListener(listener, this.model);
    }
  }

  /** Connects, retrying with back-off until it succeeds or `close()` is called. */
  async start(): Promise<void> {
    this.closing = false;
    await this.connectOnce();
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  async waitUntilConnected(timeoutMs: number): Promise<ChannelModel> {
    if (this.model) {
      return this.model;
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new Error(`AMQP not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (model: ChannelModel): void => {
        clearTimeout(timer);
        resolve(model);
      };
      this.once('connected', onConnected);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const model = this.model;
    this.model = undefined;
    if (model) {
      await model.close().catch(() => undefined);
    }
  }

  private connectOnce(): Promise<void> {
    this.connecting ??= this.tryConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async tryConnect(): Promise<void> {
    if (this.closing) {
      return;
    }
    try {
      const model = await connect(withHeartbeat(this.options.url, this.options.heartbeatSeconds ?? 15), {
        clientProperties: { connection_name: this.options.connectionName },
      });
      // Re-read through a method: close() may have run while connect() was pending.
      if (this.isClosing()) {
        await model.close().catch(() => undefined);
        return;
      }
      this.attempt = 0;
      this.blocked = false;
      model.on('error', (error: Error) => {
        this.options.logger.warn('AMQP connection error', { error: error.message });
      });
      model.on('blocked', (reason: string) => {
        this.blocked = true;
        this.options.logger.warn('AMQP connection blocked by the broker', { reason });
        this.emit('blocked');
      });
      model.on('unblocked', () => {
        this.blocked = false;
        this.emit('unblocked');
      });
      model.on('close', () => {
        if (this.model === model) {
          this.model = undefined;
          this.emit('disconnected');
          if (!this.closing) {
            this.options.logger.warn('AMQP connection lost; reconnecting');
            this.scheduleReconnect();
          }
        }
      });
      this.model = model;
      this.options.logger.info('AMQP connected', { connection: this.options.connectionName });
      for (const listener of this.listeners_) {
        await this.runListener(listener, model);
      }
      this.emit('connected', model);
    } catch (error) {
      this.options.logger.warn('AMQP connection attempt failed', {
        attempt: this.attempt + 1,
        error: error instanceof Error ? error.message : String(error),
      });
      this.scheduleReconnect();
    }
  }

  private isClosing(): boolean {
    return this.closing;
  }

  private scheduleReconnect(): void {
    if (this.closing) {
      return;
    }
    const initial = this.options.reconnectInitialDelayMs ?? 200;
    const max = this.options.reconnectMaxDelayMs ?? 10_000;
    const delay = Math.min(max, initial * 2 ** Math.min(this.attempt, 16)) * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      void this.connectOnce();
    }, delay);
  }

  private async runListener(listener: Listener, model: ChannelModel): Promise<void> {
    try {
      await listener(model);
    } catch (error) {
      // A failed setup (e.g. a channel closed by a topology error) drops the connection so that the
      // whole setup runs again on a fresh one.
      this.options.logger.error('AMQP setup failed; reconnecting', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (this.model === model) {
        await model.close().catch(() => undefined);
      }
    }
  }
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) {
    parsed.searchParams.set('heartbeat', String(seconds));
  }
  return parsed.toString();
}
