import { failFastOnConfigError, migrateCommand } from '@inbox-bridge/service-kit';
import { loadConnectorConfig } from '../config/connector.config.js';
import { connectorConsumerGroups } from '../messaging/consumer-groups.js';
import { connectorDatabaseOptions } from './data-source.js';

// Applies the migrations, then declares the service's RabbitMQ topology (before any replica of the release starts).
// `npm run db:migrate -w @inbox-bridge/connector`, or `node apps/connector/dist/database/migrate.js` in the image.
const config = failFastOnConfigError(() => loadConnectorConfig(process.env));
await migrateCommand(connectorDatabaseOptions(config), {
  topology: { amqpUrl: config.AMQP_URL, consumerGroups: connectorConsumerGroups },
});
