export { after } from './after.js';
export { before } from './before.js';
export { between } from './between.js';
export { every } from './every.js';
export { ofType } from './of-type.js';
export { once } from './once.js';
