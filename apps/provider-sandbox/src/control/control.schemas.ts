import { z } from 'zod';
import { CUSTOMER_MESSAGE_KINDS } from '../telegram/customer-simulator.js';

export const createBotSchema = z.object({
  token: z.string().optional(),
  username: z.string().min(1).optional(),
  first_name: z.string().min(1).optional(),
});

export const createCustomerSchema = z.object({
  id: z.number().int().positive().optional(),
  first_name: z.string().min(1),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
  started: z.boolean().optional(),
});

export const createGroupSchema = z.object({
  title: z.string().min(1).max(128),
  /** The customer who writes in the group. */
  member: createCustomerSchema.omit({ started: true }),
});

const size = z.object({ width: z.number().int().positive(), height: z.number().int().positive() });

export const customerMessageSchema = z.object({
  kind: z.enum(CUSTOMER_MESSAGE_KINDS),
  text: z.string().optional(),
  caption: z.string().optional(),
  content_base64: z.string().optional(),
  file_size: z.number().int().nonnegative().optional(),
  mime_type: z.string().optional(),
  file_name: z.string().optional(),
  duration: z.number().int().nonnegative().optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  performer: z.string().optional(),
  title: z.string().optional(),
  sizes: z.array(size).min(1).optional(),
  sticker_format: z.enum(['static', 'animated', 'video']).optional(),
  emoji: z.string().optional(),
  latitude: z.number().optional(),
  longitude: z.number().optional(),
  address: z.string().optional(),
  phone_number: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  vcard: z.string().optional(),
  question: z.string().optional(),
  options: z.array(z.string()).optional(),
  reply_to_message_id: z.number().int().positive().optional(),
  media_group_id: z.string().optional(),
  edit_of_message_id: z.number().int().positive().optional(),
});

export const blockSchema = z.object({ blocked: z.boolean() });

export const rawUpdateSchema = z.object({
  kind: z.string().regex(/^[a-z_]+$/),
  payload: z.unknown(),
  chat_id: z.number().int().optional(),
});

export const faultSchema = z.object({
  status: z.number().int().min(400).max(599).optional(),
  description: z.string().optional(),
  retryAfter: z.number().int().positive().optional(),
  migrateToChatId: z.number().int().optional(),
  probability: z.number().min(0).max(1).optional(),
  times: z.number().int().positive().optional(),
  latencyMs: z.number().int().nonnegative().optional(),
});

export const rateLimitSchema = z.object({
  enabled: z.boolean().optional(),
  chatPerSecond: z.number().positive().optional(),
  chatBurst: z.number().int().positive().optional(),
  globalPerSecond: z.number().positive().optional(),
});

export const webhookFaultsSchema = z.object({
  duplicate: z.boolean(),
  times: z.number().int().positive().optional(),
});
