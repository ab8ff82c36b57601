/**
 * The one grammar of secret names, for service environments, test
 * environments and compose `secrets`: a file name in the secrets directory,
 * never a path: no separators and no leading dot, so `..`, `../x` and
 * `.hidden` are all refused. The schemas carry the same pattern.
 */
export const secretNamePattern = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
const secretName = new RegExp(secretNamePattern);

export const secretNameHint = "must be a secret name: a letter or digit, then letters, digits, '_', '.' or '-' (no '/')";

export function isSecretName(name: string): boolean {
  return secretName.test(name);
}
