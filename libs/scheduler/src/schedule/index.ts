export { compileSchedule, nextFireTimes, type Schedule } from './schedule';
export { canonicalTimeZone } from './time-zone';
