import { Injectable } from '@nestjs/common';

export interface SandboxUser {
  readonly id: number;
  readonly email: string;
  readonly firstName?: string;
  readonly lastName?: string;
}

export interface SandboxInbox {
  readonly id: string;
  readonly name: string;
  type: 'INBOX' | 'HELP_DESK';
  readonly createdAt: string;
}

export interface Portal {
  readonly hubId: number;
  readonly domain: string;
  readonly users: SandboxUser[];
  readonly inboxes: SandboxInbox[];
}

@Injectable()
export class PortalStore {
  private readonly portals = new Map<number, Portal>();

  save(portal: Portal): Portal {
    this.portals.set(portal.hubId, portal);
    return portal;
  }

  get(hubId: number): Portal | undefined {
    return this.portals.get(hubId);
  }

  list(): Portal[] {
    return [...this.portals.values()];
  }

  reset(): void {
    this.portals.clear();
  }
}
