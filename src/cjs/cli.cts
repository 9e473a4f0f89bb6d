// `require('trainledger/cli')`: the ES module itself (see require-esm.cts).
import requireEsm = require('./require-esm.cjs');

export = requireEsm('trainledger/cli', () => require('../cli/index.js'));
