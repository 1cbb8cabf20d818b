// A consumer in a process of its own, so a test can kill it with SIGKILL in the middle of a handler.
// argv: amqpUrl databaseUrl schema. Prints "in-handler <messageId>" once a handler has written its effect
// (inside the still-open transaction) and then never returns.
import { RoutingKeys } from '@inbox-bridge/shared';
import { DataSource } from 'typeorm';
import { Messaging } from '../../src/index.js';

const [amqpUrl, databaseUrl, schema] = process.argv.slice(2) as [string, string, string];
const dataSource = new DataSource({
  type: 'postgres',
  url: databaseUrl,
  schema,
  extra: { max: 4, options: `-c search_path=${schema},public` },
});
await dataSource.initialize();
const messaging = new Messaging({
  serviceName: 'doomed-consumer',
  amqpUrl,
  dataSource,
  databaseUrl,
  schema,
  consumerGroups: [{ name: 'test.killed', routingKeys: [RoutingKeys.ProviderMessageReceivedV1] }],
});
await messaging.start();
messaging.startConsumers(() => async (envelope, context) => {
  await context.manager.query(
    `INSERT INTO effects (consumer, message_id, attempt) VALUES ('doomed', $1, $2)`,
    [envelope.messageId, context.attempt],
  );
  console.log(`in-handler ${envelope.messageId}`);
  await new Promise(() => undefined);
});
console.log('consuming');
