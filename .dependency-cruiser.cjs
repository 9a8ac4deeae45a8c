/**
 * The layers of src/, lowest first (docs/architecture.md says what each
 * holds): a folder imports only from folders in layers below its own, and
 * from itself. The root files (main.ts, bootstrap.ts, app.module.ts) sit on
 * top. The SDK (client/src) and the protocol package (protocol/src) never
 * import the server.
 */
const LAYERS = [
  ['common'],
  ['config'],
  ['logging', 'metrics'],
  ['redis'],
  ['auth', 'http'],
  ['audio'],
  ['llm'],
  ['tts'],
  ['vad', 'asr'],
  ['tools'],
  ['conversation'],
  ['requests'],
  ['usage'],
  ['session'],
  ['cluster'],
  ['stops'],
  ['agent'],
  ['voice'],
  ['gateway'],
  ['model-calls'],
  ['completions', 'responses', 'messages', 'ollama', 'tasks'],
  ['lifecycle', 'demo'],
];

const layerRules = LAYERS.flatMap((folders, index) => {
  const above = LAYERS.slice(index + 1).flat();
  const sameLayer = folders.length > 1 ? folders : [];
  return folders.flatMap((folder) => [
    ...(above.length > 0
      ? [
          {
            name: `${folder}-imports-upward`,
            comment: `src/${folder}/ may not import from a layer above it (${above.join(', ')})`,
            severity: 'error',
            from: { path: `^src/${folder}/` },
            to: { path: `^src/(${above.join('|')})/` },
          },
        ]
      : []),
    ...sameLayer
      .filter((other) => other !== folder)
      .map((other) => ({
        name: `${folder}-imports-${other}`,
        comment: `src/${folder}/ and src/${other}/ are one layer: neither imports the other`,
        severity: 'error',
        from: { path: `^src/${folder}/` },
        to: { path: `^src/${other}/` },
      })),
    {
      name: `${folder}-imports-root`,
      comment: `src/${folder}/ may not import the app's root files`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: '^src/[^/]+\\.ts$' },
    },
  ]);
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'no import circles, within a folder or across',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      comment: 'every folder of src/ has its place in the layers (.dependency-cruiser.cjs, docs/architecture.md)',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.flat().join('|')})/|^src/[^/]+\\.ts$` },
      to: {},
    },
    {
      name: 'sdk-imports-server',
      comment: 'the SDK speaks to the server through @agent-gateway/protocol only',
      severity: 'error',
      from: { path: '^client/src/' },
      to: { path: '^(src|test|bench)/' },
    },
    {
      name: 'protocol-imports-others',
      comment: 'the protocol package stands alone',
      severity: 'error',
      from: { path: '^protocol/src/' },
      to: { path: '^(src|client|test|bench)/' },
    },
    {
      name: 'server-imports-tests',
      comment: 'the server never imports test or bench code',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types'] },
  },
};
