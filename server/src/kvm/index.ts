/** Facts about the KVM uAPI: the one source of truth for numbers, names and layouts. */
export * from './ioc';
export * from './ctypes';
export * from './ioctls';
export * from './structs';
export * from './caps';
export * from './errno';
export * from './vm';
export * from './exits';
export * from './limits';
