import { z } from 'zod';

export const providerMessageReceivedV1Schema = z.strictObject({
  channelAccountId: z.string().min(1),
  conversationKey: z.string().min(1),
  providerMessageId: z.string().min(1),
  text: z.string().optional(),
});

export type ProviderMessageReceivedV1 = z.infer<typeof providerMessageReceivedV1Schema>;
