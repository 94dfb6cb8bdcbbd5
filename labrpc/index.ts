/** labrpc: the simulated network every simulated lab talks through. */
export { Network, ClientEnd, RpcEnd, FAULTS, DeliverySchedule, MessageInfo } from './network';
export { Server, Service, Handler } from './service';
export { TimeoutError, RpcUsageError, SerializationError } from './errors';
export { encode } from './codec';
