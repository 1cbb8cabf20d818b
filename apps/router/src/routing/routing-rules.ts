import { RequestValidationError, type FieldError } from '@inbox-bridge/service-kit';
import { z } from 'zod';

export const Weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof Weekdays)[number];

const idList = z
  .array(z.string().trim().min(1, 'must not be blank').max(200).regex(/^\S+$/, 'must not contain whitespace'))
  .max(2_000)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat an id' });

const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time HH:MM (00:00 to 24:00)');

const openingSpan = z
  .strictObject({ start: clockTime, end: clockTime })
  .refine((span) => span.start < span.end, { message: 'must end after it starts', path: ['end'] });

const isValidTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), { message: 'must be a real date' });

export const businessHoursSchema = z.strictObject({
  /** IANA time zone the opening hours and holidays are in, e.g. `Europe/Madrid`. */
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Madrid' }),
  /** Opening spans per weekday, local time; a day without spans is closed. */
  weekly: z.partialRecord(z.enum(Weekdays), z.array(openingSpan).max(6)),
  /** Local dates on which the inbox is closed all day. */
  holidays: z.array(isoDate).max(366).default([]),
  /** Outside hours: leave new conversations waiting until opening, or route them to an after-hours team. */
  outsideHours: z.discriminatedUnion('action', [
    z.strictObject({ action: z.literal('wait') }),
    z.strictObject({ action: z.literal('after-hours-team'), teamId: z.string().trim().min(1).max(200) }),
  ]),
});
export type BusinessHours = z.output<typeof businessHoursSchema>;

/**
 * The routing rules of one channel account. `targets` is the pool of the users-and-teams mode, and the
 * fallback pool of the contact-owner mode.
 */
export const routingRulesSchema = z
  .strictObject({
    mode: z.enum(['off', 'users-and-teams', 'contact-owner']),
    targets: z.strictObject({ userIds: idList.default([]), teamIds: idList.default([]) }).default({
      userIds: [],
      teamIds: [],
    }),
    distribution: z.enum(['round-robin', 'fewest-open']).default('round-robin'),
    /** Only agents whose HubSpot availability is not `away` get conversations. */
    respectAvailability: z.boolean().default(true),
    capacity: z
      .strictObject({
        /** Most open conversations per agent; null for no cap. */
        maxOpenPerAgent: z.int().min(1).max(10_000).nullable().default(null),
        /** Per-user caps that replace the default. */
        perUser: z.record(z.string().min(1).max(200), z.int().min(0).max(10_000)).default({}),
      })
      .default({ maxOpenPerAgent: null, perUser: {} }),
    businessHours: businessHoursSchema.nullable().default(null),
    /** A returning customer goes back to the agent who handled them last, if available and under the cap. */
    sticky: z.boolean().default(false),
    /** Reassign by the same rule when the assignee has not replied within this many minutes. */
    noReplyMinutes: z.number().positive().max(10_080).nullable().default(null),
  })
  .superRefine((rules, ctx) => {
    const poolSize = rules.targets.userIds.length + rules.targets.teamIds.length;
    if (rules.mode === 'users-and-teams' && poolSize === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets', 'userIds'],
        message: 'name at least one user or team to route to',
      });
    }
  });

export type RoutingRules = z.output<typeof routingRulesSchema>;
export type RoutingRulesInput = z.input<typeof routingRulesSchema>;

/**
 * Each problem of a rules body as a field error. An unknown key is named by its own path
 * (`targets.groups`), not its parent's, so a typo points at the field that has it.
 */
export function ruleFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    const fields =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...at, key], message: 'is not a known field' }))
        : [{ path: at, message: issue.message }];
    return fields.map(({ path, message }) => ({
      field: path.length === 0 ? '(body)' : path.join('.'),
      message,
    }));
  });
}

/** The rules of an admin request body, or a 400 naming each invalid field. */
export function parseRoutingRules(body: unknown): RoutingRules {
  const result = routingRulesSchema.safeParse(body);
  if (!result.success) {
    throw new RequestValidationError(ruleFieldErrors(result.error));
  }
  return result.data;
}

/** What a channel account routes by before an admin saves rules: nothing (HubSpot's own default). */
export const defaultRoutingRules: RoutingRules = routingRulesSchema.parse({ mode: 'off' });

/** The cap of one agent under these rules, or null for none. */
export function capacityOf(rules: RoutingRules, userId: string): number | null {
  return rules.capacity.perUser[userId] ?? rules.capacity.maxOpenPerAgent;
}
