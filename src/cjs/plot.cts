// `require('trainledger/plot')`: the ES module itself (see require-esm.cts).
import requireEsm = require('./require-esm.cjs');

export = requireEsm('trainledger/plot', () => require('../plot/index.js'));
