export { sriovEndpoint, sriovEndpointSource, sriovEndpointBehaviour, SriovPfReg, SRIOV_PF_ID } from './sriov-endpoint.js';
export type { SriovEndpoint, SriovEndpointOptions } from './sriov-endpoint.js';
export { virtualFunctionPlanes, SriovVfReg } from './virtual-function.js';
export type { SriovVf, VfIdentity } from './virtual-function.js';
