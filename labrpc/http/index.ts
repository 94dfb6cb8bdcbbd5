/** labrpc over real HTTP: serve a labrpc Server with RpcHttpHost, call it with HttpEnd (an RpcEnd). See README.md. */
export { RpcHttpHost, RpcHttpOptions, Route, handleRpc, RPC_PREFIX } from './host';
export { HttpEnd, HttpEndOptions, RemoteError, keepAliveAgent } from './end';
export { HttpError, readBody, readJson, sendJson, sendError, DEFAULT_MAX_BODY_BYTES } from './json';
