// The baseline of the pipeline benchmark: what a naive bridge does. It takes a Telegram update, posts it to
// HubSpot at once and answers the webhook when HubSpot has answered. No queue, no database, no retries, no
// ordering, no dedupe: a crash or a HubSpot hiccup loses the message.
import http from 'node:http';

export function startNaiveForwarder({ hubspotBaseUrl, accessToken, channelId, channelAccountId, botIdentifier }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(`/conversations/v3/custom-channels/${channelId}/messages`, hubspotBaseUrl);
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      let update;
      try {
        update = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400).end();
        return;
      }
      const message = update.message;
      const body = JSON.stringify({
        channelAccountId,
        messageDirection: 'INCOMING',
        text: message.text ?? '',
        senders: [
          {
            deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(message.from.id) },
            name: message.from.first_name,
          },
        ],
        recipients: [{ deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botIdentifier } }],
        timestamp: new Date(message.date * 1000).toISOString(),
        attachments: [],
        integrationThreadId: String(message.chat.id),
        integrationIdempotencyId: `${message.chat.id}:${message.message_id}`,
      });
      const forward = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${accessToken}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (answer) => {
          answer.resume();
          answer.once('end', () => response.writeHead(answer.statusCode === 201 ? 200 : 502).end());
        },
      );
      forward.once('error', () => response.writeHead(502).end());
      forward.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/telegram`,
        close: () =>
          new Promise((done) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
