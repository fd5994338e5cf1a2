/** Trace (strace / QEMU / capture) features: one file per feature in this folder, assembled here. */
import type { LanguageFeatures } from '../languages';

export const traceFeatures: LanguageFeatures = {};
