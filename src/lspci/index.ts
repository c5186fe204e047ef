// Public surface of the lspci module: lspci-compatible hex dumps (write and read), sysfs and
// Firecracker resource files, an lspci -v/-vv style decoder, and the lspci -t/-tv bus tree.
// Browser-safe: no Node APIs.
export type { BarSize, FunctionDump } from './types.js';
export { DumpFormatError } from './errors.js';
export { formatHexDump, formatListing, type HexDumpLevel } from './hex-dump-format.js';
export { parseLspciHexDump } from './hex-dump-parse.js';
export { parseSysfsResource, type SysfsResources } from './sysfs-resource.js';
export { parseFirecrackerInfo, type FirecrackerInfo } from './firecracker-info.js';
export { describeFunctions, type DescribeOptions } from './describe.js';
export { className } from './class-names.js';
export { formatSize } from './text.js';
export { formatTree, treeName, type TreeFunction, type TreeOptions } from './tree.js';
