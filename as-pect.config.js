// as-pect runs the AssemblyScript suites in assembly/__tests__ against the core's sources.
export default {
  entries: ['assembly/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // The core's one import (a call to a TypeScript device model); the suites register none.
    const host = { access() {} };
    return instantiate(binary, createImports({ env: { memory }, host }));
  },
  outputBinary: false,
};
