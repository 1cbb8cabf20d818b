import { migrateService } from '@inbox-bridge/service-kit';
import { routerConsumerGroups } from '../messaging/consumer-groups.js';
import { routerDatabaseOptions } from './data-source.js';

// Applies the migrations, then declares the service's RabbitMQ topology (before any replica of the release starts).
// `npm run db:migrate -w @inbox-bridge/router`, or `node apps/router/dist/database/migrate.js` in the image.
await migrateService(routerDatabaseOptions, routerConsumerGroups);
