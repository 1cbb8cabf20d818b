// Service processes seen from outside: the pid listening on a port, its resident memory, and a bare Node HTTP
// server in its own process as the baseline the services are compared with.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/** The pid of the process listening on 127.0.0.1:`port` (from `ss -ltnp`). */
export function pidListeningOn(port: number): number {
  const listing = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(listing);
  if (match?.[1] === undefined) {
    throw new Error(`no process found listening on port ${port}: ${listing}`);
  }
  return Number(match[1]);
}

/** Resident set size (VmRSS) of `pid` in MiB, from /proc/<pid>/status. */
export function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (match?.[1] === undefined) {
    throw new Error(`no VmRSS for pid ${pid}`);
  }
  return Number(match[1]) / 1024;
}

export interface BareServer {
  readonly url: string;
  readonly pid: number;
  close(): Promise<void>;
}

const bareServerSource = `
const http = require('node:http');
const server = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** A bare node:http server in its own process that reads each request and answers 200 — the floor. */
export async function startBareServer(): Promise<BareServer> {
  const child = spawn(process.execPath, ['-e', bareServerSource], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString('utf8').trim());
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}
