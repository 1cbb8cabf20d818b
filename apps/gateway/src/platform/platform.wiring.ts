import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import type { MigrationInterface } from 'typeorm';

type MigrationClass = new () => MigrationInterface;
type EntityClass = abstract new (...args: never[]) => object;

/** Environment variables of the platform feature, merged into the gateway's config schema. */
export const platformConfigShape = {};

/** The platform feature's migrations, oldest first. */
export const platformMigrations: readonly MigrationClass[] = [];

export const platformEntities: readonly EntityClass[] = [];

export const platformConsumerGroups: readonly ConsumerGroupSpec[] = [];
