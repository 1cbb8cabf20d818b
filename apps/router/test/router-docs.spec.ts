import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { routerConsumerGroups } from '../src/messaging/consumer-groups.js';

const routerDoc = readFileSync(new URL('../../../docs/router.md', import.meta.url), 'utf8');
const eventsTable = routerDoc.slice(
  routerDoc.indexOf('## Events'),
  routerDoc.indexOf('\n## ', routerDoc.indexOf('## Events') + 1),
);

describe('docs/router.md', () => {
  it.each(routerConsumerGroups.flatMap((group) => group.routingKeys.map((key) => [key, group.name])))(
    'lists %s (consumed by %s) in its events table',
    (routingKey) => {
      expect(eventsTable).toContain(`| \`${routingKey}\``);
    },
  );
});
