// `require('trainledger/demo')`: the ES module itself (see require-esm.cts).
import requireEsm = require('./require-esm.cjs');

export = requireEsm('trainledger/demo', () => require('../demo/index.js'));
