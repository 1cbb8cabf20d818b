export * from './amqp-connection.js';
export * from './cli/dead-letters.js';
export * from './consumer/commit-batch.js';
export * from './consumer/consumer-group-runner.js';
export * from './consumer/keyed-serializer.js';
export * from './consumer/message-context.js';
export * from './consumer/shard-ownership.js';
export * from './correlation-context.js';
export * from './errors.js';
export * from './logger.js';
export * from './messaging.js';
export * from './metrics.js';
export * from './nest/amqp-transport.strategy.js';
export * from './nest/consume-message.decorator.js';
export * from './outbox/outbox-relay.js';
export * from './outbox/outbox-writer.js';
export * from './persistence/messaging-tables.migration.js';
export * from './topology.js';
export {
  activeTraceContext,
  currentTraceHeaders,
  endSpanWith,
  inConsumeSpan,
  inTraceContext,
  type TraceContext,
} from './tracing/trace-context.js';
