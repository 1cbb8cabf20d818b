import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ChannelRegistrationService, type RegistrationOutcome } from './channel-registration.service.js';
import { OpsTokenGuard } from './ops-token.guard.js';

/** Ops endpoint: the same idempotent registration as `npm run register-channel`. */
@Controller('admin/channel')
export class ChannelController {
  constructor(private readonly registration: ChannelRegistrationService) {}

  @Post('register')
  @HttpCode(200)
  @UseGuards(OpsTokenGuard)
  async register(): Promise<{ channelId: string; outcome: RegistrationOutcome }> {
    const { channelId, outcome } = await this.registration.register();
    return { channelId, outcome };
  }
}
