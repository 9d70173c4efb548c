// The web demo in a process of its own, so the load generator does not share its event loop.
// argv[2]: JSON { root, nodeDist, bundleDir, open, maxConcurrent }. Prints the URL; SIGTERM closes it.
import { join } from 'node:path';

const { root, nodeDist, bundleDir, open, maxConcurrent } = JSON.parse(process.argv[2]);
const node = await import(join(nodeDist, 'index.js'));
const webDemo = await import(join(root, 'packages', 'web-demo', 'dist', 'index.js'));

// As `bloodcell-web-demo` does, the server opens the bundle itself (its own engine defaults); only
// settings it has no option for (a TF.js pool, ONNX Runtime threads) need a classifier opened here.
const own = !open.workers && open.threads === undefined;
const classifier = own ? undefined : await node.openClassifier(bundleDir, open);
const server = await webDemo.startServer({
  classifier,
  modelDir: bundleDir,
  engine: open.engine,
  backend: open.backend,
  prepareWorkers: open.prepareWorkers,
  port: 0,
  host: '127.0.0.1',
  limits: { maxConcurrent, maxWaiting: 64 },
  log: false,
});
process.stdout.write(`${server.url}\n`);
process.once('SIGTERM', async () => {
  await server.close();
  await classifier?.close();
  process.exit(0);
});
