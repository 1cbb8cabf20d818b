import { z } from 'zod';
import { routingRulesSchema, Weekdays } from '../routing/routing-rules.js';

const problem = {
  description: 'RFC 9457 problem details',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: { type: 'string' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              required: ['field', 'message'],
              properties: { field: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  },
};

const json = (schema: Record<string, unknown>, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const channelAccountId = {
  name: 'channelAccountId',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'HubSpot channel account id',
};

const rulesView = {
  type: 'object',
  required: ['channelAccountId', 'name', 'provider', 'active', 'rules', 'updatedAt'],
  properties: {
    channelAccountId: { type: 'string' },
    name: { type: 'string' },
    provider: { type: 'string' },
    active: { type: 'boolean' },
    rules: { $ref: '#/components/schemas/RoutingRules' },
    updatedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

const errors = {
  '401': problem,
  '404': { ...problem, description: 'Unknown here, or belongs to another portal' },
};

const htmlPage = (description: string) => ({ description, content: { 'text/html': {} } });

/** The signed link's fields: query parameters of the GET, hidden form fields of the POST. */
const linkFields = [
  { name: 'ref', schema: { type: 'string' }, description: '<portalId>:<channelAccountId>' },
  { name: 'exp', schema: { type: 'string' }, description: 'Expiry, epoch milliseconds' },
  {
    name: 'sig',
    schema: { type: 'string' },
    description: 'base64url HMAC-SHA256(SETTINGS_LINK_SECRET, "router-settings\\n<exp>\\n<ref>")',
  },
];

const text = (description: string) => ({ type: 'string', description });

/** The settings form's fields (all strings, as a browser posts them). */
const settingsFormFields = {
  mode: { type: 'string', enum: ['off', 'users-and-teams', 'contact-owner'] },
  userIds: text('User ids, separated by commas or spaces'),
  teamIds: text('Team ids, separated by commas or spaces'),
  distribution: { type: 'string', enum: ['round-robin', 'fewest-open'] },
  respectAvailability: text('"on" when checked'),
  maxOpenPerAgent: text('Cap per agent; blank for none'),
  perUserCaps: text('userId=cap pairs, separated by commas'),
  sticky: text('"on" when checked'),
  noReplyMinutes: text('Blank: never reassign'),
  businessHoursEnabled: text('"on" when checked'),
  timeZone: text('IANA time zone'),
  ...Object.fromEntries(
    Weekdays.map((day) => [`hours_${day}`, text('Spans such as 09:00-12:00, 13:00-17:00; blank: closed')]),
  ),
  holidays: text('Local dates YYYY-MM-DD, separated by commas'),
  outsideHours: { type: 'string', enum: ['wait', 'after-hours-team'] },
  afterHoursTeamId: text('Team that takes conversations outside hours'),
};

/** The admin API's OpenAPI 3.1 document, served at `GET /admin/openapi.json`. */
export function routerAdminOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'inbox-bridge router admin API',
      version: '1.0.0',
      description:
        'Routing rules, audit trail and queue per channel account. Every request carries `Authorization: Bearer <token>`; a token is scoped to one HubSpot portal, and resources of other portals answer 404.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { RoutingRules: z.toJSONSchema(routingRulesSchema, { io: 'input', unrepresentable: 'any' }) },
    },
    paths: {
      '/admin/channel-accounts': {
        get: {
          summary: "The portal's channel accounts and their rules",
          responses: { '200': json({ type: 'array', items: rulesView }, 'Channel accounts'), '401': problem },
        },
      },
      '/admin/channel-accounts/{channelAccountId}/rules': {
        parameters: [channelAccountId],
        get: {
          summary: 'Routing rules of a channel account (mode off until saved)',
          responses: { '200': json(rulesView, 'Rules'), ...errors },
        },
        put: {
          summary: 'Replace the routing rules of a channel account',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/RoutingRules' } } },
          },
          responses: {
            '200': json(rulesView, 'Saved rules'),
            '400': { ...problem, description: 'Invalid rules; `errors` names each field' },
            ...errors,
          },
        },
      },
      '/admin/channel-accounts/{channelAccountId}/queue': {
        parameters: [channelAccountId],
        get: {
          summary: 'Conversations waiting for an agent (oldest first) and the agents’ load',
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  channelAccountId: { type: 'string' },
                  waiting: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        hubspotThreadId: { type: 'string' },
                        waitingSince: { type: ['string', 'null'], format: 'date-time' },
                        reason: { type: ['string', 'null'] },
                      },
                    },
                  },
                  agents: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        userId: { type: 'string' },
                        availability: { type: 'string' },
                        openCount: { type: 'integer' },
                      },
                    },
                  },
                },
              },
              'Queue',
            ),
            ...errors,
          },
        },
      },
      '/admin/conversations/{hubspotThreadId}/audit': {
        parameters: [{ name: 'hubspotThreadId', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          summary: 'Every routing decision about one conversation, with its reason, oldest first',
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  hubspotThreadId: { type: 'string' },
                  channelAccountId: { type: ['string', 'null'] },
                  status: {
                    type: 'string',
                    enum: ['waiting', 'pending', 'assigned', 'manual', 'unrouted', 'closed'],
                  },
                  assigneeUserId: { type: ['string', 'null'] },
                  entries: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        at: { type: 'string', format: 'date-time' },
                        action: { type: 'string' },
                        userId: { type: ['string', 'null'] },
                        decisionId: { type: ['string', 'null'], format: 'uuid' },
                        reason: { type: 'string' },
                      },
                    },
                  },
                },
              },
              'Audit trail',
            ),
            ...errors,
          },
        },
      },
      '/admin/channel-accounts/{channelAccountId}/settings-link': {
        parameters: [channelAccountId],
        post: {
          summary: 'Mint an expiring signed link to the settings page (SETTINGS_LINK_TTL_MS)',
          responses: {
            '201': json(
              {
                type: 'object',
                properties: {
                  url: { type: 'string', format: 'uri' },
                  expiresAt: { type: 'string', format: 'date-time' },
                },
              },
              'Settings link',
            ),
            '409': { ...problem, description: 'SETTINGS_LINK_SECRET is not configured' },
            ...errors,
          },
        },
      },
      '/settings/{channelAccountId}': {
        parameters: [channelAccountId],
        get: {
          summary:
            'Settings page (HTML form) of a channel account, opened with a signed link or a bearer token',
          parameters: linkFields.map((field) => ({ ...field, in: 'query' })),
          security: [{}, { bearer: [] }],
          responses: { '200': htmlPage('The form with the saved rules'), ...errors },
        },
        post: {
          summary: 'Save the settings form (the page posts back to itself with the link fields hidden)',
          security: [{}, { bearer: [] }],
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  properties: {
                    ...Object.fromEntries(
                      linkFields.map(({ name, schema, description }) => [name, { ...schema, description }]),
                    ),
                    ...settingsFormFields,
                  },
                },
              },
            },
          },
          responses: {
            '200': htmlPage('Saved: the form with the saved rules'),
            '400': htmlPage('The form again, each invalid field marked with its error (`data-field`)'),
            ...errors,
          },
        },
      },
    },
  };
}
