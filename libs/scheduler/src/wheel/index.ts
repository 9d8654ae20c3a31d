export { type ClockPort, realClock } from './clock-port';
export { TimingWheel, type TimingWheelOptions, type WheelHandle } from './timing-wheel';
export { WheelTimer } from './wheel-timer';
