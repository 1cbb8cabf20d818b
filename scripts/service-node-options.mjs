// The Node options the bridge services (gateway, connector, router) run with, everywhere: `npm start`, the e2e stack
// and benchmarks (as arguments), the images (as NODE_OPTIONS in each app's Dockerfile; keep them equal).
//
// --max-old-space-size=256: on a machine with many GiB, V8's first full collection of a fresh process waits until
// the old generation has grown by tens of MiB of start-up garbage (the services peaked at 200-230 MiB before it,
// then ran flat at 130-160). A 256 MiB cap makes V8 collect early, keeps a service far under its 512 Mi container
// limit, and leaves it several times the heap it uses under load.
export const SERVICE_NODE_OPTIONS = ['--max-old-space-size=256'];
