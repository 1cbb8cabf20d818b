import { failFastOnConfigError, migrateCommand } from '@inbox-bridge/service-kit';
import { loadGatewayConfig } from '../config/gateway.config.js';
import { gatewayConsumerGroups } from '../messaging/consumer-groups.js';
import { gatewayDatabaseOptions } from './data-source.js';

// Applies the migrations, then declares the service's RabbitMQ topology (before any replica of the release starts).
// `npm run db:migrate -w @inbox-bridge/gateway`, or `node apps/gateway/dist/database/migrate.js` in the image.
const config = failFastOnConfigError(() => loadGatewayConfig(process.env));
await migrateCommand(gatewayDatabaseOptions(config), {
  topology: { amqpUrl: config.AMQP_URL, consumerGroups: gatewayConsumerGroups },
});
