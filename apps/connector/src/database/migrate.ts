import { migrateService } from '@inbox-bridge/service-kit';
import { connectorConsumerGroups } from '../messaging/consumer-groups.js';
import { connectorDatabaseOptions } from './data-source.js';

// Applies the migrations, then declares the service's RabbitMQ topology (before any replica of the release starts).
// `npm run db:migrate -w @inbox-bridge/connector`, or `node apps/connector/dist/database/migrate.js` in the image.
await migrateService(connectorDatabaseOptions, connectorConsumerGroups);
