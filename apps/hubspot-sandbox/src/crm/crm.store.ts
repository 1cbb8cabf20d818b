import { Injectable } from '@nestjs/common';

export interface Team {
  readonly id: string;
  readonly portalId: number;
  readonly name: string;
}

/** An owner (§5.3): `id` is the owner id, `userId` the HubSpot user id (null once the user is inactive). */
export interface Owner {
  readonly id: string;
  readonly portalId: number;
  readonly type: 'PERSON' | 'QUEUE';
  email: string;
  firstName: string;
  lastName: string;
  userId: number | null;
  readonly userIdIncludingInactive: number | null;
  /** Team ids; the first one is the primary team. */
  teamIds: string[];
  archived: boolean;
  readonly createdAt: string;
  updatedAt: string;
}

/** A record of the CRM users object: its `id` is NOT the HubSpot user id (`hs_internal_user_id`). */
export interface UserRecord {
  readonly id: string;
  readonly portalId: number;
  readonly userId: number;
  /** A paid Sales/Service Hub seat; assignment requires one (strict reading of §9.8). */
  hasSeat: boolean;
  properties: Record<string, string | null>;
  readonly createdAt: string;
  updatedAt: string;
}

export interface ContactRecord {
  readonly id: string;
  readonly portalId: number;
  properties: Record<string, string | null>;
  archived: boolean;
  readonly createdAt: string;
  updatedAt: string;
}

/** Teams, owners, CRM users and contacts of every portal. */
@Injectable()
export class CrmStore {
  private readonly teams = new Map<string, Team>();
  private readonly owners = new Map<string, Owner>();
  private readonly users = new Map<string, UserRecord>();
  private readonly contacts = new Map<string, ContactRecord>();
  private readonly tickets = new Map<string, ContactRecord>();

  /** Help-desk tickets (§5.4): same record shape as contacts. */
  saveTicket(ticket: ContactRecord): ContactRecord {
    this.tickets.set(ticket.id, ticket);
    return ticket;
  }

  ticket(portalId: number, id: string): ContactRecord | undefined {
    const ticket = this.tickets.get(id);
    return ticket?.portalId === portalId && !ticket.archived ? ticket : undefined;
  }

  saveTeam(team: Team): Team {
    this.teams.set(`${team.portalId}:${team.id}`, team);
    return team;
  }

  team(portalId: number, id: string): Team | undefined {
    return this.teams.get(`${portalId}:${id}`);
  }

  saveOwner(owner: Owner): Owner {
    this.owners.set(owner.id, owner);
    return owner;
  }

  owner(portalId: number, id: string): Owner | undefined {
    const owner = this.owners.get(id);
    return owner?.portalId === portalId ? owner : undefined;
  }

  portalOwners(portalId: number): Owner[] {
    return [...this.owners.values()].filter((owner) => owner.portalId === portalId);
  }

  saveUser(user: UserRecord): UserRecord {
    this.users.set(user.id, user);
    return user;
  }

  portalUsers(portalId: number): UserRecord[] {
    return [...this.users.values()].filter((user) => user.portalId === portalId);
  }

  userByUserId(portalId: number, userId: number): UserRecord | undefined {
    return this.portalUsers(portalId).find((user) => user.userId === userId);
  }

  saveContact(contact: ContactRecord): ContactRecord {
    this.contacts.set(contact.id, contact);
    return contact;
  }

  portalContacts(portalId: number): ContactRecord[] {
    return [...this.contacts.values()].filter((contact) => contact.portalId === portalId);
  }

  reset(): void {
    this.teams.clear();
    this.owners.clear();
    this.users.clear();
    this.contacts.clear();
    this.tickets.clear();
  }
}
