import { parseBody } from '@inbox-bridge/service-kit';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import type { z } from 'zod';
import { CustomerInputError, CustomerSimulator } from '../telegram/customer-simulator.js';
import type { BotRecord } from '../telegram/stores/bot.store.js';
import type { ChatRecord, CustomerInput, MessageDirection } from '../telegram/stores/chat.store.js';
import { TelegramState } from '../telegram/telegram.state.js';
import { WebhookDispatcher } from '../telegram/webhook-dispatcher.js';
import { TwilioDispatcher } from '../twilio/twilio-dispatcher.js';
import { TwilioState } from '../twilio/twilio.state.js';
import {
  blockSchema,
  createBotSchema,
  createCustomerSchema,
  createGroupSchema,
  customerMessageSchema,
  faultSchema,
  rateLimitSchema,
  rawUpdateSchema,
  webhookFaultsSchema,
} from './control.schemas.js';

/**
 * The sandbox's own API for tests and the customer page, under `/__sandbox`: create bots and customers,
 * act as a customer, inspect what bots sent and called, inject faults, reset. Errors are problem+json.
 */
@Controller('__sandbox')
export class ControlController {
  constructor(
    private readonly state: TelegramState,
    private readonly dispatcher: WebhookDispatcher,
    private readonly customers: CustomerSimulator,
    private readonly twilio: TwilioState,
    private readonly twilioDispatcher: TwilioDispatcher,
  ) {}

  @Post('reset')
  @HttpCode(204)
  reset(): void {
    this.dispatcher.reset();
    this.state.reset();
    this.twilioDispatcher.reset();
    this.twilio.reset();
  }

  @Post('telegram/bots')
  createBot(@Body() body: unknown) {
    const input = parseBody(createBotSchema, body ?? {});
    try {
      const bot = this.state.bots.create({
        ...(input.token === undefined ? {} : { token: input.token }),
        ...(input.username === undefined ? {} : { username: input.username }),
        ...(input.first_name === undefined ? {} : { firstName: input.first_name }),
      });
      return botView(bot);
    } catch (error) {
      throw new BadRequestException(error instanceof Error ? error.message : String(error));
    }
  }

  @Get('telegram/bots/:botId')
  getBot(@Param('botId', ParseIntPipe) botId: number) {
    const bot = this.bot(botId);
    return { ...botView(bot), webhook: this.state.webhooks.info(bot.id) };
  }

  @Post('telegram/bots/:botId/revoke')
  @HttpCode(204)
  revoke(@Param('botId', ParseIntPipe) botId: number): void {
    this.bot(botId).revoked = true;
  }

  /** BotFather "Revoke current token": a new token for the same bot; the old one is refused from now on. */
  @Post('telegram/bots/:botId/token')
  regenerateToken(@Param('botId', ParseIntPipe) botId: number): { token: string } {
    return { token: this.state.bots.regenerateToken(this.bot(botId)) };
  }

  @Get('telegram/bots/:botId/calls')
  calls(@Param('botId', ParseIntPipe) botId: number, @Query('method') method?: string) {
    const calls = this.state.callsOf(this.bot(botId).id);
    return {
      calls:
        method === undefined
          ? calls
          : calls.filter((call) => call.method.toLowerCase() === method.toLowerCase()),
    };
  }

  @Get('telegram/bots/:botId/deliveries')
  deliveries(@Param('botId', ParseIntPipe) botId: number) {
    const state = this.state.webhooks.state(this.bot(botId).id);
    return { attempts: state.attempts, pending: state.pending.map((item) => item.update) };
  }

  @Put('telegram/bots/:botId/faults/:method')
  @HttpCode(204)
  setFault(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('method') method: string,
    @Body() body: unknown,
  ): void {
    const rule = parseBody(faultSchema, body);
    this.state.faults.set(this.bot(botId).id, method, rule);
  }

  @Delete('telegram/bots/:botId/faults')
  @HttpCode(204)
  clearFaults(@Param('botId', ParseIntPipe) botId: number): void {
    this.state.faults.clear(this.bot(botId).id);
  }

  /** Webhook delivery faults: `duplicate` delivers each update twice (same `update_id`), `times` updates. */
  @Put('telegram/bots/:botId/webhook-faults')
  setWebhookFaults(@Param('botId', ParseIntPipe) botId: number, @Body() body: unknown) {
    const input = parseBody(webhookFaultsSchema, body);
    const state = this.state.webhooks.state(this.bot(botId).id);
    state.faults = {
      duplicate: input.duplicate,
      ...(input.times === undefined ? {} : { remaining: input.times }),
    };
    return state.faults;
  }

  @Delete('telegram/bots/:botId/webhook-faults')
  @HttpCode(204)
  clearWebhookFaults(@Param('botId', ParseIntPipe) botId: number): void {
    delete this.state.webhooks.state(this.bot(botId).id).faults;
  }

  @Put('telegram/rate-limits')
  rateLimits(@Body() body: unknown) {
    const input = parseBody(rateLimitSchema, body);
    const settings = this.state.flood.settings;
    this.state.flood.settings = {
      enabled: input.enabled ?? settings.enabled,
      chatPerSecond: input.chatPerSecond ?? settings.chatPerSecond,
      chatBurst: input.chatBurst ?? settings.chatBurst,
      globalPerSecond: input.globalPerSecond ?? settings.globalPerSecond,
    };
    this.state.flood.reset();
    return this.state.flood.settings;
  }

  @Post('telegram/bots/:botId/customers')
  createCustomer(@Param('botId', ParseIntPipe) botId: number, @Body() body: unknown) {
    const input = parseBody(createCustomerSchema, body);
    const bot = this.bot(botId);
    if (input.id !== undefined && this.state.chats.find(bot.id, input.id) !== undefined) {
      throw new BadRequestException(`customer ${input.id} already chats with bot ${bot.id}`);
    }
    const chat = this.state.chats.create(bot.id, {
      ...customerInput(input),
      ...(input.started === undefined ? {} : { started: input.started }),
    });
    return { user: chat.user, chat: chat.chat };
  }

  /** A basic group with the bot and one customer who writes there. */
  @Post('telegram/bots/:botId/groups')
  createGroup(@Param('botId', ParseIntPipe) botId: number, @Body() body: unknown) {
    const input = parseBody(createGroupSchema, body);
    const group = this.state.chats.createGroup(this.bot(botId).id, input.title, customerInput(input.member));
    return { user: group.user, chat: group.chat };
  }

  /** Upgrades a basic group to a supergroup: sends to the old id get `400` with `migrate_to_chat_id` from now on. */
  @Post('telegram/bots/:botId/chats/:chatId/migrate')
  migrateGroup(@Param('botId', ParseIntPipe) botId: number, @Param('chatId', ParseIntPipe) chatId: number) {
    const bot = this.bot(botId);
    try {
      const supergroup = this.customers.migrateGroup(bot, this.chat(bot, chatId));
      return { user: supergroup.user, chat: supergroup.chat };
    } catch (error) {
      if (error instanceof CustomerInputError) {
        throw new BadRequestException(error.message);
      }
      throw error;
    }
  }

  @Post('telegram/bots/:botId/chats/:chatId/messages')
  customerSends(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
    @Body() body: unknown,
  ) {
    const input = parseBody(customerMessageSchema, body);
    const bot = this.bot(botId);
    try {
      const { update, message } = this.customers.send(bot, this.chat(bot, chatId), input);
      return { update: update ?? null, message };
    } catch (error) {
      if (error instanceof CustomerInputError) {
        throw new BadRequestException(error.message);
      }
      throw error;
    }
  }

  @Get('telegram/bots/:botId/chats/:chatId/messages')
  messages(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
    @Query('direction') direction?: string,
  ) {
    const chat = this.chat(this.bot(botId), chatId);
    const wanted = direction as MessageDirection | undefined;
    return {
      messages: chat.messages.filter((item) => wanted === undefined || item.direction === wanted),
    };
  }

  @Post('telegram/bots/:botId/chats/:chatId/block')
  block(
    @Param('botId', ParseIntPipe) botId: number,
    @Param('chatId', ParseIntPipe) chatId: number,
    @Body() body: unknown,
  ) {
    const { blocked } = parseBody(blockSchema, body);
    const bot = this.bot(botId);
    const update = this.customers.setBlocked(bot, this.chat(bot, chatId), blocked);
    return { update: update ?? null };
  }

  @Post('telegram/bots/:botId/updates')
  rawUpdate(@Param('botId', ParseIntPipe) botId: number, @Body() body: unknown) {
    const input = parseBody(rawUpdateSchema, body);
    const update = this.customers.raw(this.bot(botId), input.kind, input.payload, input.chat_id);
    return { update: update ?? null };
  }

  private bot(botId: number): BotRecord {
    const bot = this.state.bots.byId(botId);
    if (bot === undefined) {
      throw new NotFoundException(`bot ${botId} not found`);
    }
    return bot;
  }

  private chat(bot: BotRecord, chatId: number): ChatRecord {
    const chat = this.state.chats.find(bot.id, chatId);
    if (chat === undefined) {
      throw new NotFoundException(`chat ${chatId} not found for bot ${bot.id}`);
    }
    return chat;
  }
}

function customerInput(input: Omit<z.output<typeof createCustomerSchema>, 'started'>): CustomerInput {
  return {
    firstName: input.first_name,
    ...(input.id === undefined ? {} : { id: input.id }),
    ...(input.last_name === undefined ? {} : { lastName: input.last_name }),
    ...(input.username === undefined ? {} : { username: input.username }),
    ...(input.language_code === undefined ? {} : { languageCode: input.language_code }),
  };
}

function botView(bot: BotRecord) {
  return {
    id: bot.id,
    token: bot.token,
    username: bot.username,
    first_name: bot.firstName,
    revoked: bot.revoked,
  };
}
