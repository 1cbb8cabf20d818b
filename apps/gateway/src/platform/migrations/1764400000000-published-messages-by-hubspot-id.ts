import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rep's reply names the customer message it answers by HubSpot id (`inReplyToId`); the outbound path maps
 * it back to the provider's message id through `published_messages`, so that lookup needs its own index.
 */
export class PublishedMessagesByHubSpotId1764400000000 implements MigrationInterface {
  readonly name = 'PublishedMessagesByHubSpotId1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE INDEX published_messages_hubspot_message_idx ON "${s}".published_messages (hubspot_message_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".published_messages_hubspot_message_idx`);
  }
}
