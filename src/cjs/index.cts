// `require('trainledger')`: the ES module itself (see require-esm.cts).
import requireEsm = require('./require-esm.cjs');

export = requireEsm('trainledger', () => require('../index.js'));
