/**
 * KVM Lens for VS Code: starts the language server (dist/server.js, over a pipe) for KVM traces and api.rst,
 * and owns the UI around it: status bar, replay panel, api.rst preview, capture, commands.
 */
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { createClient, stateName } from './client';
import { registerCommands } from './commands';
import { watchLargeTraces } from './largeTraces';
import { ReplayPanel } from './replayPanel';
import { StatusBar } from './statusBar';

let client: LanguageClient | undefined;
let statusBar: StatusBar | undefined;
let restarting: Promise<void> | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const started = Date.now();
  const output = vscode.window.createOutputChannel('KVM Lens', { log: true });
  statusBar = new StatusBar();
  context.subscriptions.push(output, statusBar);

  const host = {
    context,
    output,
    statusBar,
    client: () => client,
    restart: () => restart(context, output),
  };
  context.subscriptions.push(...registerCommands(host));
  context.subscriptions.push({ dispose: () => ReplayPanel.instance?.dispose() });
  // Traces over 50 MB never reach the server (VS Code does not sync them): offer the CLI instead.
  context.subscriptions.push(...watchLargeTraces(context, output));

  await start(context, output);
  output.info(`KVM Lens activated in ${Date.now() - started} ms (server ${client?.isRunning() ? 'running' : 'not running'})`);
}

async function start(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<void> {
  const c = createClient(context, output);
  client = c;
  c.onDidChangeState((e) => {
    if (client !== c) return;
    statusBar?.setState(stateName(e.newState));
  });
  statusBar?.setState('starting');
  try {
    await c.start();
    statusBar?.setState(c.state === State.Running ? 'running' : 'stopped');
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    output.info(`KVM Lens: the server did not start: ${msg}`);
    statusBar?.setState('failed', msg);
  }
}

/** Stops the server (waiting for it, at most 5 s), then starts a new one; the replay panel reloads. */
async function restart(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<void> {
  if (restarting) return restarting;
  restarting = (async () => {
    statusBar?.setState('restarting');
    const old = client;
    client = undefined;
    if (old) {
      try {
        await old.stop(5000);
      } catch (e) {
        output.info(`KVM Lens: stopping the server: ${(e as Error)?.message ?? e}`);
      }
      await old.dispose(1000).catch(() => undefined);
    }
    await start(context, output);
    const panel = ReplayPanel.instance;
    if (panel?.documentUri) await panel.load(panel.documentUri);
  })();
  try {
    await restarting;
  } finally {
    restarting = undefined;
  }
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.stop(3000).catch(() => undefined);
}
