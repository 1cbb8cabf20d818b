import { failFastOnConfigError, migrateCommand } from '@inbox-bridge/service-kit';
import { loadRouterConfig } from '../config/router.config.js';
import { routerDatabaseOptions } from './data-source.js';

// `npm run db:migrate -w @inbox-bridge/router`, or `node apps/router/dist/database/migrate.js` in the image.
const config = failFastOnConfigError(() => loadRouterConfig(process.env));
await migrateCommand(routerDatabaseOptions(config));
