import { failFastOnConfigError, migrateCommand } from '@inbox-bridge/service-kit';
import { loadGatewayConfig } from '../config/gateway.config.js';
import { gatewayDatabaseOptions } from './data-source.js';

// `npm run db:migrate -w @inbox-bridge/gateway`, or `node apps/gateway/dist/database/migrate.js` in the image.
const config = failFastOnConfigError(() => loadGatewayConfig(process.env));
await migrateCommand(gatewayDatabaseOptions(config));
