export {
  adminTokens,
  parseAdminTokens,
  portalOfBearer,
  portalOfToken,
  type AdminTokenEntry,
} from './auth/admin-tokens.js';
export { createServiceApp, type CreateServiceAppOptions } from './bootstrap/create-service-app.js';
export { DrainAwareExpressAdapter } from './bootstrap/drain-aware-express-adapter.js';
export { BoundedMap } from './common/bounded-map.js';
export { TimeoutError, withTimeout } from './common/with-timeout.js';

export { commonConfigSchema, type CommonConfig } from './config/common-config.js';
export { ConfigValidationError, type ConfigProblem } from './config/config-validation.error.js';
export { APP_CONFIG, ConfigModule } from './config/config.module.js';
export { EXIT_CODE_CONFIG_ERROR, failFastOnConfigError, type FailFastIo } from './config/fail-fast.js';
export {
  LOG_LEVELS,
  amqpUrl,
  booleanFlag,
  durationMs,
  encryptionKeys,
  isSensitiveField,
  logLevel,
  nonEmptyString,
  port,
  positiveInt,
  positiveNumber,
  postgresUrl,
  retentionMs,
  secret,
  sqlIdentifier,
  transitPublicKey,
  url,
  type LogLevel,
} from './config/fields.js';
export { loadConfig, type ConfigSchema, type Env } from './config/load-config.js';
export { devDefaultProblems, httpsOriginProblems, isProductionEnv } from './config/production.js';
export { REDACTED, maskUrlCredentials, redactConfig } from './config/redact-config.js';

export { parseEncryptionKeys, type EncryptionKeyRing } from './crypto/encryption-keys.js';
export {
  MediaLinkSigner,
  type MediaLinkRejection,
  type SignedMediaLink,
} from './crypto/media-link-signer.js';
export { SecretBox, SecretBoxError, type SecretBoxErrorCode } from './crypto/secret-box.js';
export {
  SettingsLinkSigner,
  type SettingsLinkCheck,
  type SettingsLinkParams,
} from './crypto/settings-link-signer.js';
export {
  TransitSealError,
  TransitSealer,
  TransitUnsealer,
  generateTransitKeyPair,
  type TransitSealErrorCode,
} from './crypto/transit-seal.js';

export { createDataSource, type DatabaseOptions } from './database/data-source.js';
export { DatabaseReadinessCheck } from './database/database-readiness.check.js';
export {
  DataSourceCloser,
  DatabaseModule,
  type DatabaseModuleAsyncOptions,
} from './database/database.module.js';
export { DATA_SOURCE } from './database/database.tokens.js';
export { GroupCommit, type GroupCommitOptions } from './database/group-commit.js';
export { GroupedReads } from './database/grouped-reads.js';
export {
  migrateCommand,
  migrateService,
  type MigrateCommandIo,
  type MigrateCommandOptions,
} from './database/migrate-command.js';
export { runMigrations, type MigrationLogger } from './database/migrations.js';
export { PerTransaction } from './database/per-transaction.js';
export { SharedReads } from './database/shared-reads.js';
export { TablePruner, type RetainedTable, type TablePrunerOptions } from './database/table-pruner.js';

export { DomainError, type DomainErrorOptions } from './errors/domain-error.js';
export { ProblemDetailsFilter } from './errors/problem-details.filter.js';
export { PROBLEM_CONTENT_TYPE, toProblemDetails, type ProblemDetails } from './errors/problem-details.js';
export {
  RequestValidationError,
  ZodValidationPipe,
  parseBody,
  parsePathParam,
  type FieldError,
} from './errors/validation.js';

export { DrainState } from './health/drain-state.js';
export { HealthModule, type HealthModuleOptions } from './health/health.module.js';
export { READINESS_CHECKS, type ReadinessCheck } from './health/readiness-check.js';
export {
  ReadinessService,
  type ReadinessCheckResult,
  type ReadinessReport,
} from './health/readiness.service.js';

export { holdsUnstorableText, parseJsonBody } from './http/json-body.js';
export {
  PayloadTooLargeError,
  UnsupportedContentEncodingError,
  installRawHttpRoutes,
  type RawHttpAnswer,
  type RawHttpRequest,
  type RawHttpRoute,
} from './http/raw-http-route.js';
export {
  CORRELATION_ID_HEADER,
  isValidCorrelationId,
  requestCorrelationId,
} from './logging/correlation-id.js';
export { LOG_REDACT_PATHS } from './logging/logger-options.js';
export { LoggingModule, type LoggingModuleOptions } from './logging/logging.module.js';

export { MetricsModule, type MetricsModuleOptions } from './metrics/metrics.module.js';
export { METRICS_REGISTRY } from './metrics/metrics.tokens.js';
export { registeredMetric } from './metrics/registered-metric.js';

export {
  MessagingReadinessCheck,
  ServiceRuntimeModule,
  nestMessagingLogger,
  serviceDatabaseOptions,
  startServiceApp,
  type ServiceRuntimeOptions,
  type StartServiceAppOptions,
} from './bootstrap/service-runtime.module.js';

export {
  hybridServiceSuite,
  type HybridServiceCase,
  type HybridServiceSuite,
  type HybridServiceSuiteOptions,
  type TestInfrastructure,
} from './testing/hybrid-service.suite.js';
export { TracingFlush, inClientSpan, isTracing, startTracing, stopTracing } from './tracing/tracing.js';
