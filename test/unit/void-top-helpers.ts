export { voidHead } from '../../src/lib/core/void.js';
export { VOID_HEAD_BASE as VOID_HEAD_BASE_FOR_TESTS } from '../../src/lib/core/constants.js';
