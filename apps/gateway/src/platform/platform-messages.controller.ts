import { ConsumeMessage, type MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type MessageEnvelope } from '@inbox-bridge/shared';
import { Controller } from '@nestjs/common';
import { InboundPublisherService } from './publishing/inbound-publisher.service.js';

/** The platform's consumers (consumer groups in platform.wiring.ts). */
@Controller()
export class PlatformMessagesController {
  constructor(private readonly inbound: InboundPublisherService) {}

  @ConsumeMessage(RoutingKeys.ProviderMessageReceivedV1)
  async onProviderMessage(
    envelope: MessageEnvelope<typeof RoutingKeys.ProviderMessageReceivedV1>,
    context: MessageContext,
  ): Promise<void> {
    await this.inbound.publish(envelope.payload, context);
  }
}
