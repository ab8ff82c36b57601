// `stagecoach run` as a child process, shared with the benchmarks.
export { DaemonProcess } from '../../support/daemon-process.js';
