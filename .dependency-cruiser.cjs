/**
 * Module boundaries, checked by `npm run lint`. Type-only imports count (tsPreCompilationDeps):
 * two modules whose types refer to each other must still be read together.
 */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules that import each other, directly or through others.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-sandbox-in-production",
      severity: "error",
      comment:
        "The local GitHub and Identity Center (src/sandbox) are for tests, benchmarks and the demo, and the production " +
        "build leaves them out (tsconfig.build.json): production code importing them would not run from the image.",
      from: { path: "^src/(?!sandbox/)" },
      to: { path: "^src/sandbox/" },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
  },
};
