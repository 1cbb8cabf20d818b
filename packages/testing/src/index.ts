export * from './eventually.js';
export * from './gate.js';
export * from './message-capture.js';
export * from './otlp-receiver.js';
export * from './tcp-proxy.js';
export * from './test-environment.js';
