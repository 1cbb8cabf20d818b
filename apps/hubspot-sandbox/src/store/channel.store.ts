import { Injectable } from '@nestjs/common';

export interface Channel {
  readonly id: string;
  readonly appId: number;
  name: string;
  capabilities: Record<string, unknown>;
  webhookUrl?: string;
  channelAccountConnectionRedirectUrl?: string;
  channelDescription?: string;
  channelLogoUrl?: string;
  readonly createdAt: string;
  archived: boolean;
}

@Injectable()
export class ChannelStore {
  private readonly channels = new Map<string, Channel>();

  save(channel: Channel): Channel {
    this.channels.set(channel.id, channel);
    return channel;
  }

  get(id: string): Channel | undefined {
    return this.channels.get(id);
  }

  list(): Channel[] {
    return [...this.channels.values()];
  }

  reset(): void {
    this.channels.clear();
  }
}
