import { z } from 'zod';
import { emailSchema, idSchema, shortTextSchema } from '../common.js';

export const Availabilities = ['available', 'away', 'unknown'] as const;
export const availabilitySchema = z.enum(Availabilities);
export type Availability = z.infer<typeof availabilitySchema>;

export const rosterUserSchema = z.strictObject({
  /** HubSpot user id (what thread assignment takes). */
  userId: idSchema,
  /** HubSpot CRM owner id of the same person, when they are an owner (contact-owner routing). */
  ownerId: idSchema.optional(),
  name: shortTextSchema.optional(),
  email: emailSchema.optional(),
  availability: availabilitySchema,
  /** HubSpot team ids the user belongs to. */
  teamIds: z.array(idSchema).max(500),
});
export type RosterUser = z.infer<typeof rosterUserSchema>;

export const rosterTeamSchema = z.strictObject({
  /** HubSpot team id. */
  teamId: idSchema,
  name: shortTextSchema,
});
export type RosterTeam = z.infer<typeof rosterTeamSchema>;

/**
 * The portal's users and teams as the gateway read them from HubSpot, for the router's roster.
 * Routing key `gateway.roster.changed.v1`. All roster messages share one ordering key, so a partial update
 * never overtakes the snapshot it applies to.
 */
export const gatewayRosterChangedV1Schema = z.strictObject({
  users: z.array(rosterUserSchema).max(10_000),
  teams: z.array(rosterTeamSchema).max(2_000),
  /** True: a full snapshot (anyone absent is gone). False: only the listed users and teams changed. */
  full: z.boolean(),
});

export type GatewayRosterChangedV1 = z.infer<typeof gatewayRosterChangedV1Schema>;
