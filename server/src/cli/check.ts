/** `kvm-lens check` (not yet built). */
export async function check(_argv: string[]): Promise<number> {
  process.stderr.write('kvm-lens check: not implemented yet\n');
  return 2;
}
