/** One image line to change: the service, the image it names now, the image it should name, and why. */
export interface ImageBump {
  service: string;
  from: string;
  to: string;
  /** The policy that chose `to` (`semver ^1`, `digest`), or who set it (`set-image by …`). */
  policy: string;
}

/**
 * The commit message of an image update: a subject a person reads in `git
 * log --oneline`, one line per service, and trailers a tool can parse.
 */
export function bumpMessage(env: string, bumps: readonly ImageBump[], by: string): string {
  const subject = bumps.length === 1 ? `${env}: update ${bumps[0]!.service} to ${bumps[0]!.to}` : `${env}: update ${bumps.map((b) => b.service).join(', ')}`;
  const body = bumps.map((b) => `- ${b.service}: ${b.from} → ${b.to} (${b.policy})`).join('\n');
  const trailers = [
    `Stagecoach-Update-Environment: ${env}`,
    ...bumps.flatMap((b) => [`Stagecoach-Update-Image: ${b.service} ${b.from} -> ${b.to}`, `Stagecoach-Update-Policy: ${b.service} ${b.policy}`]),
  ].join('\n');
  return `${subject}\n\n${body}\n\nSet by ${by}.\n\n${trailers}\n`;
}
