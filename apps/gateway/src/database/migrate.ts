import { migrateService } from '@inbox-bridge/service-kit';
import { gatewayConsumerGroups } from '../messaging/consumer-groups.js';
import { gatewayDatabaseOptions } from './data-source.js';

// Applies the migrations, then declares the service's RabbitMQ topology (before any replica of the release starts).
// `npm run db:migrate -w @inbox-bridge/gateway`, or `node apps/gateway/dist/database/migrate.js` in the image.
await migrateService(gatewayDatabaseOptions, gatewayConsumerGroups);
