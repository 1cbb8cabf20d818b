import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * HubSpot counts a portal's requests over a rolling window as they arrive. The limiter keeps one row per request
 * granted within the window (`hubspot_rate_grants`): a grant holds its place until a window after its request came
 * back (HubSpot received it before that), or, if its holder died mid-call, until a window plus the longest call
 * after it was granted. `take_rate_grants` refreshes and takes a bucket's grants in one round trip, under the
 * bucket's row lock, so every replica draws from the same budget. The token-bucket columns of
 * `hubspot_rate_buckets` stay for replicas of the previous release during a rolling update.
 */
export class RateGrants1764800000000 implements MigrationInterface {
  readonly name = 'RateGrants1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE TABLE "${s}".hubspot_rate_grants (
         id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         bucket_key text NOT NULL,
         busy_until timestamptz NOT NULL,
         completed boolean NOT NULL DEFAULT false
       )`,
    );
    await queryRunner.query(
      `CREATE INDEX hubspot_rate_grants_by_bucket ON "${s}".hubspot_rate_grants (bucket_key, busy_until)`,
    );
    // Returns the grants taken, the pause left (ms, 0 when none) and, for the callers it could not serve, when the
    // grants held now will free up (ms from now, soonest first; a call still running counts as freeing a window
    // from now, the soonest it can).
    await queryRunner.query(
      `CREATE FUNCTION "${s}".take_rate_grants(
         p_bucket text, p_wanted integer, p_limit integer, p_window_ms double precision, p_hold_ms double precision)
       RETURNS TABLE (grant_ids bigint[], paused_ms double precision, frees_in_ms double precision[])
       LANGUAGE plpgsql AS $fn$
       DECLARE
         v_paused timestamptz;
         v_now timestamptz;
         v_held integer;
         v_take integer;
         v_ids bigint[];
       BEGIN
         SELECT b.paused_until INTO v_paused FROM "${s}".hubspot_rate_buckets b
          WHERE b.bucket_key = p_bucket FOR UPDATE;
         IF NOT FOUND THEN
           INSERT INTO "${s}".hubspot_rate_buckets (bucket_key, tokens, refilled_at)
           VALUES (p_bucket, 0, clock_timestamp()) ON CONFLICT (bucket_key) DO NOTHING;
           SELECT b.paused_until INTO v_paused FROM "${s}".hubspot_rate_buckets b
            WHERE b.bucket_key = p_bucket FOR UPDATE;
         END IF;
         v_now := clock_timestamp();
         IF v_paused > v_now THEN
           RETURN QUERY SELECT '{}'::bigint[], extract(epoch FROM v_paused - v_now)::double precision * 1000,
                               '{}'::double precision[];
           RETURN;
         END IF;
         DELETE FROM "${s}".hubspot_rate_grants g WHERE g.bucket_key = p_bucket AND g.busy_until <= v_now;
         SELECT count(*) INTO v_held FROM "${s}".hubspot_rate_grants g WHERE g.bucket_key = p_bucket;
         v_take := greatest(0, least(p_wanted, p_limit - v_held));
         WITH granted AS (
           INSERT INTO "${s}".hubspot_rate_grants (bucket_key, busy_until)
           SELECT p_bucket, v_now + make_interval(secs => (p_window_ms + p_hold_ms) / 1000)
             FROM generate_series(1, v_take)
           RETURNING id
         )
         SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_ids FROM granted;
         RETURN QUERY
         SELECT v_ids, 0::double precision,
                coalesce((SELECT array_agg(f.ms ORDER BY f.ms) FROM (
                  SELECT CASE WHEN g.completed THEN extract(epoch FROM g.busy_until - v_now)::double precision * 1000
                              ELSE p_window_ms END AS ms
                    FROM "${s}".hubspot_rate_grants g
                   WHERE g.bucket_key = p_bucket AND NOT (g.id = ANY (v_ids))
                   ORDER BY 1 LIMIT greatest(0, p_wanted - v_take)) f), '{}');
       END
       $fn$`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `DROP FUNCTION "${s}".take_rate_grants(text, integer, integer, double precision, double precision)`,
    );
    await queryRunner.query(`DROP TABLE "${s}".hubspot_rate_grants`);
  }
}
