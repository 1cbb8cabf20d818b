import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import type { MigrationInterface } from 'typeorm';
import { ChannelAccounts1764320000000 } from './migrations/1764320000000-channel-accounts.js';

type MigrationClass = new () => MigrationInterface;
type EntityClass = abstract new (...args: never[]) => object;

/** Environment variables of the accounts feature, merged into the gateway's config schema. */
export const accountsConfigShape = {};

/** The accounts feature's migrations, oldest first. */
export const accountsMigrations: readonly MigrationClass[] = [ChannelAccounts1764320000000];

export const accountsEntities: readonly EntityClass[] = [];

export const accountsConsumerGroups: readonly ConsumerGroupSpec[] = [];
