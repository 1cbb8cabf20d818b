import { connect } from 'amqplib';
import { listDeadLetters, replayDeadLetters } from './dead-letters.js';

const usage = `Usage: npm run dead-letters -- <list|inspect|replay> <consumer-group> [message-id ...]
  list     one line per dead letter: message id, type, error class and reason
  inspect  full detail (headers and body) of the given message ids, or of all
  replay   send the given message ids (or all) back to the group's queue as a first attempt
Environment: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672)`;

async function main(argv: string[]): Promise<number> {
  const [command, group, ...ids] = argv;
  if (!command || !group || !['list', 'inspect', 'replay'].includes(command)) {
    console.error(usage);
    return 64;
  }
  const connection = await connect(process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672');
  try {
    if (command === 'replay') {
      const channel = await connection.createConfirmChannel();
      const result = await replayDeadLetters(channel, group, ids.length > 0 ? { messageIds: ids } : {});
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    const channel = await connection.createChannel();
    const letters = await listDeadLetters(channel, group);
    const selected = ids.length > 0 ? letters.filter((l) => ids.includes(l.messageId ?? '')) : letters;
    if (command === 'list') {
      for (const letter of selected) {
        console.log(
          `${letter.messageId ?? '-'}\t${letter.type ?? '-'}\t${letter.errorClass ?? '-'}\t${letter.error ?? '-'}`,
        );
      }
      console.log(`${selected.length} dead letter(s) in ${group}.dlq`);
    } else {
      console.log(JSON.stringify(selected, null, 2));
    }
    return 0;
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
