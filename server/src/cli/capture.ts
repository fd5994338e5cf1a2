/** `kvm-lens capture` (not yet built). */
export async function capture(_argv: string[]): Promise<number> {
  process.stderr.write('kvm-lens capture: not implemented yet\n');
  return 2;
}
