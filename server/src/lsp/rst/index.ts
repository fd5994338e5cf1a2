/** api.rst features: one file per feature in this folder, assembled here. */
import type { LanguageFeatures } from '../languages';

export const rstFeatures: LanguageFeatures = {};
