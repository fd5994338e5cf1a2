/**
 * What every check in the core produces: a rule code, a severity, a range and a message,
 * with optional fixes. The LSP layer turns these into Diagnostics/CodeActions, the CLI prints them.
 */
import type { Range } from './range';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
  /** true when this is the obvious fix (VS Code's "preferred" quick fix). */
  preferred?: boolean;
}

export interface RelatedInfo {
  range: Range;
  message: string;
  /** another document (file URI or path); absent = same document */
  uri?: string;
}

export interface Finding {
  code: string;
  severity: Severity;
  range: Range;
  message: string;
  fixes?: Fix[];
  related?: RelatedInfo[];
  tags?: ('unnecessary' | 'deprecated')[];
}
