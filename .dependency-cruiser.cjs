/**
 * Import direction, checked by `npm run lint:deps` (part of `npm test`):
 *   router → core → workers;  supervisor → core, workers;  queue → core (beside the router, the second way in);
 *   core, supervisor → cache;  every layer → model/ and the shared
 *   modules (config, logger, metrics);  only service.ts (and the entry, server.ts) wires the router
 *   to the rest;  no cycles;  tests and benchmarks share harness/, never each other.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const LAYER = (name) => `^src/${name}/`;
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle hides which module depends on which.', from: {}, to: { circular: true } },
    {
      name: 'router-only-from-service',
      severity: 'error',
      comment: 'Only service.ts wires the HTTP layer to the rest; nothing below it may reach up into router/.',
      from: { path: '^src/', pathNot: ['^src/router/', '^src/service\\.ts$'] },
      to: { path: LAYER('router') },
    },
    {
      name: 'router-not-to-workers-or-supervisor',
      severity: 'error',
      comment: 'The HTTP layer talks to the embedding core (core/) only; the pool and the supervisor are wired in by service.ts.',
      from: { path: LAYER('router') },
      to: { path: [LAYER('workers'), LAYER('supervisor')] },
    },
    {
      name: 'queue-only-from-service',
      severity: 'error',
      comment: 'The NATS worker mode (queue/) is a second way in beside the router: only service.ts wires it (and bin/ drives it as a client).',
      from: { path: '^src/', pathNot: ['^src/queue/', '^src/service\\.ts$'] },
      to: { path: LAYER('queue') },
    },
    {
      name: 'queue-not-to-router-workers-or-supervisor',
      severity: 'error',
      comment: 'queue/ reaches the embedding core (core/) as the router does, never the router itself; the pool and the supervisor are wired in by service.ts.',
      from: { path: LAYER('queue') },
      to: { path: [LAYER('router'), LAYER('workers'), LAYER('supervisor')], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-not-up',
      severity: 'error',
      comment: 'core/ runs on the main thread below the router and beside the supervisor, which steers it through RuntimeLimits.',
      from: { path: LAYER('core') },
      to: { path: [LAYER('supervisor'), LAYER('queue'), '^src/(service|server|metrics)\\.ts$'] },
    },
    {
      name: 'workers-not-up',
      severity: 'error',
      comment: 'workers/ is the bottom layer: the pool and the code that runs inside the worker threads.',
      from: { path: LAYER('workers') },
      to: { path: [LAYER('core'), LAYER('supervisor'), LAYER('queue'), '^src/(service|server|metrics|config)\\.ts$'] },
    },
    {
      name: 'thread-code-stays-in-thread',
      severity: 'error',
      comment: 'Code under workers/thread/ runs inside worker threads; the main thread reaches it only through the pool (types aside).',
      from: { path: '^src/', pathNot: ['^src/workers/', '^src/service\\.ts$'] },
      to: { path: '^src/workers/thread/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cache-below-core',
      severity: 'error',
      comment:
        'cache/ (the embedding cache: key, tiers) is used by core/ in front of the batch runner and by the supervisor (its memory tier); it reads model/, config, logger and the shape of its metrics only, never the layers that use it.',
      from: { path: LAYER('cache') },
      to: { path: ['^src/(router|core|workers|supervisor|queue)/', '^src/(service|server)\\.ts$'] },
    },
    {
      name: 'cache-not-from-router-or-workers',
      severity: 'error',
      comment: 'The HTTP layer reaches the cache only through core/; worker threads never see it.',
      from: { path: [LAYER('router'), LAYER('workers')] },
      to: { path: LAYER('cache') },
    },
    {
      name: 'model-is-a-leaf',
      severity: 'error',
      comment: 'model/ holds the model facts and files; every layer may read it, it reads none of them.',
      from: { path: LAYER('model') },
      to: { path: ['^src/(router|core|workers|supervisor|queue|cache)/', '^src/(service|server|metrics|config)\\.ts$'] },
    },
    {
      name: 'shared-modules-stay-shared',
      severity: 'error',
      comment: 'config, logger and metrics are used by every layer, so they import none of the layers above the planner.',
      from: { path: '^src/(config|logger|metrics)\\.ts$' },
      to: { path: ['^src/(router|workers|supervisor|queue|cache)/', '^src/(service|server)\\.ts$'] },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|harness|scripts)/' },
    },
    {
      name: 'tests-and-bench-apart',
      severity: 'error',
      comment: 'Tests and benchmarks share harness/ and never import each other.',
      from: { path: '^test/' },
      to: { path: '^bench/' },
    },
    { name: 'bench-not-to-tests', severity: 'error', from: { path: '^(bench|harness)/' }, to: { path: '^test/' } },
    { name: 'harness-not-to-bench', severity: 'error', from: { path: '^harness/' }, to: { path: '^bench/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
  },
};
