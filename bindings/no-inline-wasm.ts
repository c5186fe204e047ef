// Stands in for generated/wasm-inline.ts in the slim build (`vpci/slim`): no Wasm bytes travel
// in the bundle, so the host hands over vpci.wasm itself (workerd's precompiled module, a URL).
export const wasmBase64 = '';
