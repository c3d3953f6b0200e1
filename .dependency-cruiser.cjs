// The layering rules of DESIGN.md §3, checked by dependency-cruiser in `npm test`
// (test/unit/layering.test.ts) and printable with `npm run layers`.
//
//   entry points   cli/ bench/ tools/ scripts/ index.ts *-main.ts
//   adapters       server/ client/ cluster/ (and runtime/: clock, sleep, logger, durable files)
//   cores          core/  (pure state machines, the seeded simulator in core/sim)
//   protocol       protocol/ (wire codecs, constants, status codes)
//   generated      proto/ (protobuf types and the gRPC loader: adapters only)
//
// Imports run downwards only. Cores and protocol do no IO: no node built-ins but assert and
// crypto hashing, no npm packages, no generated types (timers, clocks and randomness that need
// no import are caught by test/unit/layering.test.ts's source scan).
const ENTRY = '^(cli|bench|tools|scripts)/|(^|/)[^/]+-main\\.ts$|^index\\.ts$'
const PURE = '^(protocol|core)/'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties two concepts into one: split them or move the shared part down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-no-io-builtins',
      severity: 'error',
      comment: 'protocol/ and core/ are pure: no node:net, node:fs, timers, child processes … (assert and crypto hashing only). Take time, randomness and IO results as inputs.',
      from: { path: PURE },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?(assert|assert/strict|crypto)$' },
    },
    {
      name: 'pure-no-npm',
      severity: 'error',
      comment: 'protocol/ and core/ import no npm package (@grpc/grpc-js, pino, protobufjs … are adapter business).',
      from: { path: PURE },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'pure-no-generated-types',
      severity: 'error',
      comment: 'protocol/ and core/ do not import generated protobuf types or the gRPC loader (proto/).',
      from: { path: PURE },
      to: { path: '^proto/' },
    },
    {
      name: 'protocol-imports-only-protocol',
      severity: 'error',
      comment: 'The protocol layer is the bottom: it imports nothing of the project outside protocol/.',
      from: { path: '^protocol/' },
      to: { path: '^(core|runtime|server|client|cluster|cli|bench|tools|scripts|proto)/|^index\\.ts$' },
    },
    {
      name: 'core-imports-only-core-and-protocol',
      severity: 'error',
      comment: 'A core imports other cores and the protocol layer, nothing above.',
      from: { path: '^core/' },
      to: { path: '^(runtime|server|client|cluster|cli|bench|tools|scripts|proto)/|^index\\.ts$' },
    },
    {
      name: 'runtime-below-adapters',
      severity: 'error',
      comment: 'runtime/ (clock, sleep, logger, durable files) serves every adapter and imports none.',
      from: { path: '^runtime/' },
      to: { path: '^(server|client|cluster|cli|bench|tools|scripts)/|^index\\.ts$' },
    },
    {
      name: 'client-not-server',
      severity: 'error',
      comment: 'client/ and server/ never import each other: what both need belongs in protocol/, core/ or runtime/.',
      from: { path: '^client/' },
      to: { path: '^server/' },
    },
    {
      name: 'server-not-client',
      severity: 'error',
      comment: 'client/ and server/ never import each other: what both need belongs in protocol/, core/ or runtime/.',
      from: { path: '^server/' },
      to: { path: '^client/' },
    },
    {
      name: 'cluster-not-client-or-server',
      severity: 'error',
      comment: 'The cluster supervisor (config, launcher, processes, admin client) imports neither client/ nor server/.',
      from: { path: '^cluster/' },
      to: { path: '^(client|server)/' },
    },
    {
      name: 'no-entry-point-imports',
      severity: 'error',
      comment: 'Nothing below the entry points imports one (cli/, bench/, tools/, scripts/, index.ts, *-main.ts).',
      from: { path: '^(protocol|core|runtime|server|client|cluster|proto)/', pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a broken build waiting to happen.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test)/|^proto/gen/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'] },
    reporterOptions: {
      archi: { collapsePattern: '^(protocol|core|runtime|server|client|cluster|cli|bench|tools|scripts|proto)/[^/]+' },
    },
  },
}
