/** `kvm-lens replay` (not yet built). */
export async function replay(_argv: string[]): Promise<number> {
  process.stderr.write('kvm-lens replay: not implemented yet\n');
  return 2;
}
