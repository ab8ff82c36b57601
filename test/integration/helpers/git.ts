// The loopback git server and a person's clone, shared with the benchmarks.
export { git, GitServer, UserClone } from '../../support/git-server.js';
