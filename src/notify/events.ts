/** What a notification is about: a closed vocabulary shared by every sink and the payload schema. */
export const notificationKinds = ['deploy', 'rollback', 'verification.passed', 'verification.failed', 'block', 'proposal'] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export interface NotifiedTest {
  name: string;
  result: string;
  message: string;
}

/**
 * One thing that happened in the pipeline, told by the daemon to the notifier.
 * Everything here may come from the config repo (names, images, messages):
 * sinks escape it for their medium and never add secrets to it.
 */
export interface NotificationEvent {
  kind: NotificationKind;
  environment: string;
  /** The config-repo commit this is about (deployed, verified, blocked or proposed from). */
  revision: string | null;
  /** ISO time the daemon decided it. */
  at: string;
  /** One line a person reads, e.g. "staging: passed 3/3 tests at 1a2b3c4". */
  summary: string;
  /** Images involved: deployed, rolled back, verified, blocked or proposed. */
  services: { name: string; image: string }[];
  /** Why: rollback causes, gate reasons, failed test messages. */
  reasons: string[];
  /** Verification only: every test with its result. */
  tests?: NotifiedTest[];
  /** Verification only: the marker commit that records it. */
  marker?: { commit: string };
  /** Proposal only: the branch (or direct commit) that carries the change. */
  proposal?: { branch: string; commit: string | null; from: string };
}

/** Where the event came from, added to every payload. */
export interface NotificationContext {
  repo: string;
  branch: string;
  /** Link to the pipeline page, when the operator configured one. */
  pageUrl: string | undefined;
}

export const shortRevision = (revision: string | null): string => (revision ? revision.slice(0, 7) : 'none');
