// The checksum lives in util/ (the log uses it too); TFRecord's framing keeps its old import path.
export { crc32c, maskCrc32c, maskedCrc32c } from '../../util/crc32c.js';
