import { ConsumeMessage, type MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type MessageEnvelope } from '@inbox-bridge/shared';
import { Controller } from '@nestjs/common';
import { AssignmentService } from './assignments/assignment.service.js';
import { DeliveryStatusService } from './delivery/delivery-status.service.js';
import { InboundPublisherService } from './publishing/inbound-publisher.service.js';

/** The platform's consumers (consumer groups in platform.wiring.ts). */
@Controller()
export class PlatformMessagesController {
  constructor(
    private readonly inbound: InboundPublisherService,
    private readonly deliveryStatus: DeliveryStatusService,
    private readonly assignments: AssignmentService,
  ) {}

  @ConsumeMessage(RoutingKeys.ProviderMessageReceivedV1)
  async onProviderMessage(
    envelope: MessageEnvelope<typeof RoutingKeys.ProviderMessageReceivedV1>,
    context: MessageContext,
  ): Promise<void> {
    await this.inbound.publish(envelope.payload, context);
  }

  @ConsumeMessage(RoutingKeys.ConnectorDeliveryStatusChangedV1)
  async onDeliveryStatus(
    envelope: MessageEnvelope<typeof RoutingKeys.ConnectorDeliveryStatusChangedV1>,
    context: MessageContext,
  ): Promise<void> {
    await this.deliveryStatus.apply(envelope.payload, context);
  }

  @ConsumeMessage(RoutingKeys.RouterAssignmentRequestedV1)
  async onAssignmentRequested(
    envelope: MessageEnvelope<typeof RoutingKeys.RouterAssignmentRequestedV1>,
    context: MessageContext,
  ): Promise<void> {
    await this.assignments.apply(envelope.payload, context);
  }
}
