import { failFastOnConfigError, migrateCommand } from '@inbox-bridge/service-kit';
import { loadConnectorConfig } from '../config/connector.config.js';
import { connectorDatabaseOptions } from './data-source.js';

// `npm run db:migrate -w @inbox-bridge/connector`, or `node apps/connector/dist/database/migrate.js` in the image.
const config = failFastOnConfigError(() => loadConnectorConfig(process.env));
await migrateCommand(connectorDatabaseOptions(config));
