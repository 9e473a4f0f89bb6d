export * from './trainledger-error.js';
