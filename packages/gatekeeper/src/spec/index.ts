export * from './input.js';
export * from './decision.js';
