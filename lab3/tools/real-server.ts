/**
 * One lab 3 server as its own OS process, for `npm run lab3 -- CONFIG.json --real`:
 *
 *   node -r ./grader/register.js lab3/tools/real-server.ts CONFIG.json ID IMPL_DIR
 *
 * Listens on the first port the configuration gives server ID and reaches its peers (itself included) over
 * HTTP with labrpc's HttpEnd, so the same KVServer class runs here and in the simulation.
 */
import { Server } from '../../labrpc';
import type { RpcEnd } from '../../labrpc';
import { HttpEnd, RpcHttpHost } from '../../labrpc/http';
import { load } from '../load';
import { loadConfig } from './config';

/** How long a server waits for a peer's reply before re-sending, ms (peers may still be starting). */
const PEER_TIMEOUT_MS = 2000;

async function main(): Promise<void> {
  const [file, idText, dir] = process.argv.slice(2);
  const config = loadConfig(file);
  const me = Number(idText);
  const peers: RpcEnd[] = config.ports.map(
    (p, j) => new HttpEnd(`http://127.0.0.1:${p[0]}`, { timeoutMs: PEER_TIMEOUT_MS, name: `server ${j}` }),
  );
  const impl = load(dir);
  const server = new Server().addService(new impl.KVServer({ me, peers, level: config.level }), 'KVServer');
  const host = new RpcHttpHost(server);
  const address = await host.listen(config.ports[me][0]);
  console.log(`server ${me} (${config.level}) listening on ${address.address}:${address.port}`);
  process.on('SIGTERM', () => void host.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error(`server ${process.argv[3]}: ${(err as Error).message}`);
  process.exit(1);
});
