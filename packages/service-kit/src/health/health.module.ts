import {
  Global,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type ModuleMetadata,
  type OnModuleDestroy,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DrainState } from './drain-state.js';
import { HealthController } from './health.controller.js';
import { HEALTH_MODULE_OPTIONS, READINESS_CHECKS, type ReadinessCheck } from './readiness-check.js';
import { ReadinessService, type ResolvedHealthOptions } from './readiness.service.js';

export interface HealthModuleOptions {
  /** Readiness checks: provider classes (instantiated with DI) or ready-made instances. */
  readonly checks?: readonly (Type<ReadinessCheck> | ReadinessCheck)[];
  /** Modules the check classes need, when their dependencies are not global. */
  readonly imports?: ModuleMetadata['imports'];
  /** Deadline for checks that do not set `timeoutMs`. */
  readonly defaultTimeoutMs?: number;
}

function isCheckClass(check: Type<ReadinessCheck> | ReadinessCheck): check is Type<ReadinessCheck> {
  return typeof check === 'function';
}

/**
 * `GET /health/live`, `GET /health/ready`, `DrainState` and `ReadinessService` (global, so any module can
 * inject them). `createServiceApp` starts draining as the very first shutdown step; the hooks here are the
 * fallback for apps built some other way (e.g. `Test.createTestingModule`).
 */
@Global()
@Module({})
export class HealthModule implements OnModuleDestroy, BeforeApplicationShutdown {
  constructor(private readonly drainState: DrainState) {}

  static forRoot(options: HealthModuleOptions = {}): DynamicModule {
    const checks = options.checks ?? [];
    const classes = checks.filter(isCheckClass);
    const resolved: ResolvedHealthOptions = { defaultTimeoutMs: options.defaultTimeoutMs ?? 2000 };
    const checksProvider: Provider = {
      provide: READINESS_CHECKS,
      useFactory: (...instances: ReadinessCheck[]): ReadinessCheck[] => {
        const byClass = new Map(classes.map((type, index) => [type, instances[index]]));
        return checks.map((check) => (isCheckClass(check) ? byClass.get(check) : check)).filter(isDefined);
      },
      inject: classes,
    };
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        DrainState,
        ReadinessService,
        { provide: HEALTH_MODULE_OPTIONS, useValue: resolved },
        ...classes,
        checksProvider,
      ],
      exports: [DrainState, ReadinessService],
    };
  }

  onModuleDestroy(): void {
    this.drainState.startDraining();
  }

  beforeApplicationShutdown(): void {
    this.drainState.startDraining();
  }
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
