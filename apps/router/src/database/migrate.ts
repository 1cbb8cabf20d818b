import { failFastOnConfigError, migrateCommand } from '@inbox-bridge/service-kit';
import { loadRouterConfig } from '../config/router.config.js';
import { routerConsumerGroups } from '../messaging/consumer-groups.js';
import { routerDatabaseOptions } from './data-source.js';

// Applies the migrations, then declares the service's RabbitMQ topology (before any replica of the release starts).
// `npm run db:migrate -w @inbox-bridge/router`, or `node apps/router/dist/database/migrate.js` in the image.
const config = failFastOnConfigError(() => loadRouterConfig(process.env));
await migrateCommand(routerDatabaseOptions(config), {
  topology: { amqpUrl: config.AMQP_URL, consumerGroups: routerConsumerGroups },
});
