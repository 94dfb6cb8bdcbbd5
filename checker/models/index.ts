/** The models shipped with the checker. */
export { kvModel, kvModelIgnoringAppendOutput, KvInput, KvOutput, KvState } from './kv';
export { versionedModel, VersionedErr, VersionedInput, VersionedOutput, VersionedState } from './versioned';
export { registerModel, RegisterInput, RegisterOutput, RegisterState, RegisterValue } from './register';
