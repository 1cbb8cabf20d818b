import { Global, Module, type DynamicModule } from '@nestjs/common';

/** Injection token of the validated, typed config object: `@Inject(APP_CONFIG) config: GatewayConfig`. */
export const APP_CONFIG = Symbol.for('inbox-bridge:APP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Provides the object returned by `loadConfig` under `APP_CONFIG`, so nothing else reads `process.env`. */
  static forRoot(config: object): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: Object.freeze({ ...config }) }],
      exports: [APP_CONFIG],
    };
  }
}
