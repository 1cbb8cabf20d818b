export * from './contracts/envelope.js';
export * from './contracts/message-map.js';
export * from './contracts/provider/message-received.v1.js';
export * from './contracts/routing-keys.js';
