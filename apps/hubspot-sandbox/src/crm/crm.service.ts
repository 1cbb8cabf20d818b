import { Injectable } from '@nestjs/common';
import { HubSpotError } from '../common/hubspot-error.js';
import { detail, invalidInput } from '../common/validation.js';
import { IdGenerator } from '../store/ids.js';
import { PortalStore } from '../store/portal.store.js';
import { objectNotFound, parseProperties, type CrmObjectKind } from './crm-objects.js';
import { CrmStore, type ContactRecord, type Owner, type UserRecord } from './crm.store.js';

export const CONTACTS: CrmObjectKind = {
  name: 'contacts',
  known: [
    'email',
    'firstname',
    'lastname',
    'phone',
    'mobilephone',
    'company',
    'lifecyclestage',
    'hubspot_owner_id',
    'createdate',
    'lastmodifieddate',
    'hs_object_id',
  ],
  defaults: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  always: ['createdate', 'hs_object_id', 'lastmodifieddate'],
};
export const CONTACT_WRITABLE = CONTACTS.known.filter(
  (name) => !['createdate', 'lastmodifieddate', 'hs_object_id'].includes(name),
);

export const TICKETS: CrmObjectKind = {
  name: 'tickets',
  known: [
    'subject',
    'content',
    'hs_pipeline',
    'hs_pipeline_stage',
    'hs_ticket_priority',
    'hs_ticket_category',
    'hubspot_owner_id',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
  ],
  defaults: [
    'content',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
    'hs_pipeline',
    'hs_pipeline_stage',
    'hs_ticket_category',
    'hs_ticket_priority',
    'subject',
  ],
  always: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};
export const TICKET_WRITABLE = TICKETS.known.filter(
  (name) => !['createdate', 'hs_lastmodifieddate', 'hs_object_id'].includes(name),
);

export const USERS: CrmObjectKind = {
  name: 'users',
  known: [
    'hs_internal_user_id',
    'hs_email',
    'hs_given_name',
    'hs_family_name',
    'hs_availability_status',
    'hs_job_title',
    'hs_standard_time_zone',
    'hs_working_hours',
    'hs_out_of_office_hours',
    'hubspot_team_id',
    'hs_additional_phone',
    'hs_createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
  ],
  defaults: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  always: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};
export const USER_WRITABLE = [
  'hs_availability_status',
  'hs_job_title',
  'hs_standard_time_zone',
  'hs_working_hours',
  'hs_out_of_office_hours',
  'hs_additional_phone',
];

export interface SeedUser {
  readonly id: number;
  readonly email: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly ownerId?: string;
  readonly teamIds?: readonly string[];
  readonly seat?: boolean;
  readonly availability?: 'available' | 'away';
}

/** Owners, CRM users and contacts of a portal (§5.3), and their seeding. */
@Injectable()
export class CrmService {
  constructor(
    private readonly crm: CrmStore,
    private readonly portals: PortalStore,
    private readonly ids: IdGenerator,
  ) {}

  seedTeams(portalId: number, teams: readonly { id: string; name: string }[]): void {
    for (const team of teams) {
      this.crm.saveTeam({ portalId, id: team.id, name: team.name });
    }
  }

  /** Every HubSpot user is also an owner and a record of the users object. */
  seedUser(portalId: number, user: SeedUser): void {
    const now = new Date().toISOString();
    this.assertTeams(portalId, user.teamIds ?? [], 'users.teamIds');
    const owner = this.seedOwner(portalId, {
      id: user.ownerId,
      email: user.email,
      firstName: user.firstName ?? '',
      lastName: user.lastName ?? '',
      userId: user.id,
      teamIds: user.teamIds ?? [],
    });
    const recordId = String(this.ids.next('crm-user', 3_000_000_001));
    this.crm.saveUser({
      id: recordId,
      portalId,
      userId: user.id,
      hasSeat: user.seat ?? true,
      createdAt: now,
      updatedAt: now,
      properties: {
        hs_object_id: recordId,
        hs_internal_user_id: String(user.id),
        hs_email: user.email,
        hs_given_name: user.firstName ?? null,
        hs_family_name: user.lastName ?? null,
        hs_availability_status: user.availability ?? 'available',
        hubspot_team_id: owner.teamIds[0] ?? null,
        hs_createdate: now,
        hs_lastmodifieddate: now,
      },
    });
  }

  seedOwner(
    portalId: number,
    input: {
      id?: string | undefined;
      email: string;
      firstName?: string;
      lastName?: string;
      userId?: number | null;
      type?: 'PERSON' | 'QUEUE';
      teamIds?: readonly string[];
      archived?: boolean;
    },
  ): Owner {
    this.assertTeams(portalId, input.teamIds ?? [], 'teamIds');
    const id = input.id ?? String(this.ids.next('owner', 600_000_001));
    if (this.crm.owner(portalId, id) !== undefined) {
      throw HubSpotError.conflict(`Owner ${id} already exists`);
    }
    const now = new Date().toISOString();
    return this.crm.saveOwner({
      id,
      portalId,
      type: input.type ?? 'PERSON',
      email: input.email,
      firstName: input.firstName ?? '',
      lastName: input.lastName ?? '',
      userId: input.userId ?? null,
      userIdIncludingInactive: input.userId ?? null,
      teamIds: [...(input.teamIds ?? [])],
      archived: input.archived ?? false,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** Control API: availability, seat, deactivation (the owner keeps `userIdIncludingInactive`). */
  updateUser(
    portalId: number,
    userId: number,
    change: { availability?: 'available' | 'away'; seat?: boolean; active?: boolean },
  ): UserRecord {
    const user = this.crm.userByUserId(portalId, userId);
    if (user === undefined) {
      throw HubSpotError.notFound(`User ${userId} not found in portal ${portalId}`);
    }
    const now = new Date().toISOString();
    if (change.availability !== undefined) {
      user.properties.hs_availability_status = change.availability;
    }
    if (change.seat !== undefined) {
      user.hasSeat = change.seat;
    }
    if (change.active !== undefined) {
      for (const owner of this.crm.portalOwners(portalId)) {
        if (owner.userIdIncludingInactive === userId) {
          owner.userId = change.active ? userId : null;
          owner.updatedAt = now;
        }
      }
    }
    user.properties.hs_lastmodifieddate = now;
    user.updatedAt = now;
    return user;
  }

  /** The HubSpot user behind `A-<userId>`, if it exists, is active and has a seat. */
  assignableUser(portalId: number, userId: number): 'OK' | 'NO_USER' | 'NO_SEAT' | 'INACTIVE' {
    const user = this.crm.userByUserId(portalId, userId);
    if (
      user === undefined ||
      this.portals.get(portalId)?.users.some((candidate) => candidate.id === userId) !== true
    ) {
      return 'NO_USER';
    }
    const owner = this.crm
      .portalOwners(portalId)
      .find((candidate) => candidate.userIdIncludingInactive === userId);
    if (owner !== undefined && owner.userId === null) {
      return 'INACTIVE';
    }
    return user.hasSeat ? 'OK' : 'NO_SEAT';
  }

  createContact(portalId: number, body: unknown, id?: string): ContactRecord {
    const properties = parseProperties(CONTACTS, CONTACT_WRITABLE, body);
    this.assertContactProperties(portalId, properties);
    const contactId = id ?? String(this.ids.next('contact', 101));
    if (this.contact(portalId, contactId, 'id') !== undefined) {
      throw HubSpotError.conflict(`Contact ${contactId} already exists`);
    }
    const now = new Date().toISOString();
    return this.crm.saveContact({
      id: contactId,
      portalId,
      archived: false,
      createdAt: now,
      updatedAt: now,
      properties: { ...properties, hs_object_id: contactId, createdate: now, lastmodifieddate: now },
    });
  }

  updateContact(portalId: number, id: string, idProperty: string, body: unknown): ContactRecord {
    const contact = this.contact(portalId, id, idProperty);
    if (contact === undefined) {
      throw objectNotFound('contacts', id);
    }
    const properties = parseProperties(CONTACTS, CONTACT_WRITABLE, body);
    this.assertContactProperties(portalId, properties, contact.id);
    const now = new Date().toISOString();
    contact.properties = { ...contact.properties, ...properties, lastmodifieddate: now };
    contact.updatedAt = now;
    return contact;
  }

  /** A help-desk conversation's ticket: unassigned, first stage of the default pipeline (§5.4, §9.9). */
  createTicket(portalId: number, subject: string): ContactRecord {
    const id = String(this.ids.next('ticket', 9_000_000_001));
    const now = new Date().toISOString();
    return this.crm.saveTicket({
      id,
      portalId,
      archived: false,
      createdAt: now,
      updatedAt: now,
      properties: {
        subject,
        content: null,
        hs_pipeline: '0',
        hs_pipeline_stage: '1',
        hs_ticket_priority: null,
        hs_ticket_category: null,
        hubspot_owner_id: null,
        createdate: now,
        hs_lastmodifieddate: now,
        hs_object_id: id,
      },
    });
  }

  updateTicket(portalId: number, id: string, body: unknown): ContactRecord {
    const ticket = this.crm.ticket(portalId, id);
    if (ticket === undefined) {
      throw objectNotFound('tickets', id);
    }
    const properties = parseProperties(TICKETS, TICKET_WRITABLE, body);
    this.assertOwner(portalId, properties.hubspot_owner_id);
    const now = new Date().toISOString();
    ticket.properties = { ...ticket.properties, ...properties, hs_lastmodifieddate: now };
    ticket.updatedAt = now;
    return ticket;
  }

  contact(portalId: number, id: string, idProperty: string): ContactRecord | undefined {
    return this.crm
      .portalContacts(portalId)
      .find((contact) =>
        idProperty === 'id'
          ? contact.id === id
          : contact.properties.email?.toLowerCase() === id.toLowerCase(),
      );
  }

  /** A contact matched by an email or phone delivery identifier (§3.3), for thread association. */
  contactByIdentifier(portalId: number, type: string, value: string): ContactRecord | undefined {
    const normalised = value.toLowerCase();
    return this.crm.portalContacts(portalId).find((contact) => {
      if (contact.archived) {
        return false;
      }
      if (type === 'HS_EMAIL_ADDRESS') {
        return contact.properties.email?.toLowerCase() === normalised;
      }
      if (type === 'HS_PHONE_NUMBER') {
        return [contact.properties.phone, contact.properties.mobilephone].some(
          (phone) => phone !== null && phone !== undefined && phone.replace(/[^\d+]/g, '') === value,
        );
      }
      return false;
    });
  }

  private assertContactProperties(
    portalId: number,
    properties: Record<string, string>,
    selfId?: string,
  ): void {
    this.assertOwner(portalId, properties.hubspot_owner_id);
    const email = properties.email;
    if (email !== undefined) {
      const existing = this.contact(portalId, email, 'email');
      if (existing !== undefined && existing.id !== selfId) {
        throw HubSpotError.conflict(`Contact already exists. Existing ID: ${existing.id}`);
      }
    }
  }

  /** `hubspot_owner_id` holds an owner id (not a user id); empty unassigns. */
  private assertOwner(portalId: number, owner: string | undefined): void {
    if (owner !== undefined && owner !== '' && this.crm.owner(portalId, owner) === undefined) {
      throw invalidInput([
        detail(
          `Property "hubspot_owner_id": ${owner} is not a valid owner id`,
          'INVALID_OPTION',
          'body',
          'properties.hubspot_owner_id',
        ),
      ]);
    }
  }

  private assertTeams(portalId: number, teamIds: readonly string[], field: string): void {
    const unknown = teamIds.filter((id) => this.crm.team(portalId, id) === undefined);
    if (unknown.length > 0) {
      throw invalidInput([
        detail(`Unknown team id(s) ${unknown.join(', ')}`, 'INVALID_VALUE', 'body', field),
      ]);
    }
  }

  toPublicOwner(owner: Owner): Record<string, unknown> {
    return {
      id: owner.id,
      email: owner.email,
      type: owner.type,
      firstName: owner.firstName,
      lastName: owner.lastName,
      userId: owner.userId,
      userIdIncludingInactive: owner.userIdIncludingInactive,
      createdAt: owner.createdAt,
      updatedAt: owner.updatedAt,
      archived: owner.archived,
      teams: owner.teamIds.map((id, index) => ({
        id,
        name: this.crm.team(owner.portalId, id)?.name ?? '',
        primary: index === 0,
      })),
    };
  }
}
