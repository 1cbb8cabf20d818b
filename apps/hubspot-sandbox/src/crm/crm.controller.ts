import { Body, Controller, Get, Headers, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { detail, invalidInput } from '../common/validation.js';
import { TokenService } from '../oauth/token.service.js';
import {
  assertQuery,
  forwardPage,
  objectNotFound,
  parseProperties,
  queryList,
  search,
  toCrmObject,
} from './crm-objects.js';
import { CONTACTS, CrmService, TICKETS, USER_WRITABLE, USERS } from './crm.service.js';
import { CrmStore } from './crm.store.js';

const OWNERS_READ = ['crm.objects.owners.read'];
const CONTACTS_READ = ['crm.objects.contacts.read', 'crm.objects.contacts.write'];
const CONTACTS_WRITE = ['crm.objects.contacts.write'];
const USERS_READ = ['crm.objects.users.read', 'crm.objects.users.write'];
const USERS_WRITE = ['crm.objects.users.write'];
const LIST_LIMIT = { limit: { min: 1, max: 100 } };

/** Owners API (§5.3): `/crm/v3/owners` and `/crm/owners/2026-03`. */
@Controller(['crm/v3/owners', 'crm/owners/2026-03'])
@UseFilters(HubSpotErrorFilter)
export class OwnersController {
  constructor(
    private readonly tokens: TokenService,
    private readonly crm: CrmStore,
    private readonly service: CrmService,
  ) {}

  @Get()
  list(@Headers('authorization') auth: string | undefined, @Query() query: Record<string, unknown>) {
    const token = this.tokens.authenticate(auth, OWNERS_READ);
    assertQuery(query, ['email', 'after', 'limit', 'archived'], { limit: { min: 1, max: 500 } });
    const archived = query.archived === 'true';
    const email = typeof query.email === 'string' ? query.email.toLowerCase() : undefined;
    const owners = this.crm
      .portalOwners(token.portalId)
      .filter((owner) => owner.archived === archived)
      .filter((owner) => email === undefined || owner.email.toLowerCase() === email);
    const page = forwardPage(owners, query, '/crm/v3/owners/', 100);
    return { ...page, results: page.results.map((owner) => this.service.toPublicOwner(owner)) };
  }

  @Get(':ownerId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('ownerId') ownerId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, OWNERS_READ);
    assertQuery(query, ['idProperty', 'archived']);
    const idProperty = query.idProperty ?? 'id';
    if (idProperty !== 'id' && idProperty !== 'userId') {
      throw badIdProperty('expected one of id, userId');
    }
    const archived = query.archived === 'true';
    const owner = this.crm
      .portalOwners(token.portalId)
      .find(
        (candidate) =>
          candidate.archived === archived &&
          (idProperty === 'id' ? candidate.id === ownerId : String(candidate.userId) === ownerId),
      );
    if (owner === undefined) {
      throw objectNotFound('owner', ownerId);
    }
    return this.service.toPublicOwner(owner);
  }
}

/** The CRM users object (§5.3): `hs_availability_status` and friends. */
@Controller('crm/v3/objects/users')
@UseFilters(HubSpotErrorFilter)
export class UsersController {
  constructor(
    private readonly tokens: TokenService,
    private readonly crm: CrmStore,
  ) {}

  @Get()
  list(@Headers('authorization') auth: string | undefined, @Query() query: Record<string, unknown>) {
    const token = this.tokens.authenticate(auth, USERS_READ);
    return listObjects(USERS, query, '/crm/v3/objects/users', (archived) =>
      archived ? [] : this.crm.portalUsers(token.portalId),
    );
  }

  @Post('search')
  @UseFilters(HubSpotErrorFilter)
  search(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    return searchObjects(
      USERS,
      this.crm.portalUsers(this.tokens.authenticate(auth, USERS_READ).portalId),
      body,
      res,
    );
  }

  @Get(':userId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('userId') id: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, USERS_READ);
    assertQuery(query, ['properties', 'idProperty', 'archived']);
    return toCrmObject(USERS, this.find(token.portalId, id, query.idProperty), queryList(query.properties));
  }

  @Patch(':userId')
  update(
    @Headers('authorization') auth: string | undefined,
    @Param('userId') id: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ) {
    const token = this.tokens.authenticate(auth, USERS_WRITE);
    assertQuery(query, ['idProperty']);
    const user = this.find(token.portalId, id, query.idProperty);
    const properties = parseProperties(USERS, USER_WRITABLE, body);
    const status = properties.hs_availability_status;
    if (status !== undefined && status !== 'available' && status !== 'away') {
      throw invalidInput([
        detail(
          `Property "hs_availability_status": ${status} is not a valid option (available, away)`,
          'INVALID_OPTION',
          'body',
          'properties.hs_availability_status',
        ),
      ]);
    }
    const now = new Date().toISOString();
    user.properties = { ...user.properties, ...properties, hs_lastmodifieddate: now };
    user.updatedAt = now;
    return toCrmObject(USERS, user, Object.keys(properties));
  }

  private find(portalId: number, id: string, idProperty: unknown) {
    if (idProperty !== undefined && idProperty !== 'hs_object_id' && idProperty !== 'hs_internal_user_id') {
      throw badIdProperty('expected hs_object_id or hs_internal_user_id');
    }
    const user = this.crm
      .portalUsers(portalId)
      .find(
        (candidate) =>
          (idProperty === 'hs_internal_user_id' ? String(candidate.userId) : candidate.id) === id,
      );
    if (user === undefined) {
      throw objectNotFound('users', id);
    }
    return user;
  }
}

/** Contacts (§5.3, §3.3): get, list, search, create, update; `hubspot_owner_id` is an owner id. */
@Controller('crm/v3/objects/contacts')
@UseFilters(HubSpotErrorFilter)
export class ContactsController {
  constructor(
    private readonly tokens: TokenService,
    private readonly crm: CrmStore,
    private readonly service: CrmService,
  ) {}

  @Get()
  list(@Headers('authorization') auth: string | undefined, @Query() query: Record<string, unknown>) {
    const token = this.tokens.authenticate(auth, CONTACTS_READ);
    return listObjects(CONTACTS, query, '/crm/v3/objects/contacts', (archived) =>
      this.crm.portalContacts(token.portalId).filter((contact) => contact.archived === archived),
    );
  }

  @Post()
  create(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const token = this.tokens.authenticate(auth, CONTACTS_WRITE);
    const contact = this.service.createContact(token.portalId, withoutAssociations(body));
    res.status(201);
    return toCrmObject(CONTACTS, contact, Object.keys(contact.properties));
  }

  @Post('search')
  search(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const token = this.tokens.authenticate(auth, CONTACTS_READ);
    return searchObjects(CONTACTS, this.crm.portalContacts(token.portalId), body, res);
  }

  @Get(':contactId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('contactId') id: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, CONTACTS_READ);
    assertQuery(query, ['properties', 'idProperty', 'archived', 'propertiesWithHistory', 'associations']);
    const idProperty = this.idProperty(query.idProperty);
    const contact = this.service.contact(token.portalId, id, idProperty);
    if (contact === undefined || contact.archived !== (query.archived === 'true')) {
      throw objectNotFound('contacts', id);
    }
    return toCrmObject(CONTACTS, contact, queryList(query.properties));
  }

  @Patch(':contactId')
  update(
    @Headers('authorization') auth: string | undefined,
    @Param('contactId') id: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ) {
    const token = this.tokens.authenticate(auth, CONTACTS_WRITE);
    assertQuery(query, ['idProperty']);
    const contact = this.service.updateContact(token.portalId, id, this.idProperty(query.idProperty), body);
    return toCrmObject(CONTACTS, contact, Object.keys(contact.properties));
  }

  private idProperty(value: unknown): string {
    if (value === undefined || value === 'hs_object_id') {
      return 'id';
    }
    if (value === 'email') {
      return 'email';
    }
    throw badIdProperty('expected hs_object_id or email');
  }
}

/** 400 for an `idProperty` query parameter outside `expected`. */
function badIdProperty(expected: string) {
  return invalidInput([
    detail(
      `Invalid value for query parameter "idProperty": ${expected}`,
      'INVALID_ENUM_VALUE',
      'query',
      'idProperty',
    ),
  ]);
}

/** `GET` list of a CRM object: `limit` (≤ 100, default 10), `after`, `properties`, `archived`. */
function listObjects<T extends Parameters<typeof toCrmObject>[1]>(
  kind: Parameters<typeof toCrmObject>[0],
  query: Record<string, unknown>,
  path: string,
  records: (archived: boolean) => T[],
) {
  assertQuery(query, ['limit', 'after', 'properties', 'archived'], LIST_LIMIT);
  const page = forwardPage(records(query.archived === 'true'), query, path, 10);
  const properties = queryList(query.properties);
  return { ...page, results: page.results.map((record) => toCrmObject(kind, record, properties)) };
}

/** `POST …/search` answers 200 (Nest's default for POST is 201). */
function searchObjects(
  kind: Parameters<typeof search>[0],
  records: Parameters<typeof search>[1],
  body: unknown,
  res: Response,
) {
  res.status(200);
  return search(kind, records, body);
}

/** The SDK's create sends `associations: []`; an empty list is accepted, associations are not emulated. */
function withoutAssociations(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && 'associations' in body) {
    const { associations, ...rest } = body as Record<string, unknown>;
    if (Array.isArray(associations) && associations.length === 0) {
      return rest;
    }
  }
  return body;
}

/** Help-desk tickets (§5.4): read and set the owner (`hubspot_owner_id`), scope `tickets`. */
@Controller('crm/v3/objects/tickets')
@UseFilters(HubSpotErrorFilter)
export class TicketsController {
  constructor(
    private readonly tokens: TokenService,
    private readonly crm: CrmStore,
    private readonly service: CrmService,
  ) {}

  @Get(':ticketId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('ticketId') id: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, ['tickets']);
    assertQuery(query, ['properties', 'archived', 'idProperty', 'propertiesWithHistory', 'associations']);
    const ticket = this.crm.ticket(token.portalId, id);
    if (ticket === undefined || query.archived === 'true') {
      throw objectNotFound('tickets', id);
    }
    return toCrmObject(TICKETS, ticket, queryList(query.properties));
  }

  @Patch(':ticketId')
  update(
    @Headers('authorization') auth: string | undefined,
    @Param('ticketId') id: string,
    @Body() body: unknown,
  ) {
    const token = this.tokens.authenticate(auth, ['tickets']);
    const ticket = this.service.updateTicket(token.portalId, id, body);
    return toCrmObject(TICKETS, ticket, Object.keys(ticket.properties));
  }
}
