export { constantLR, cosineLR, linearWarmup, multiStepLR, stepLR, type LRSchedule } from './lr-schedule.js';
