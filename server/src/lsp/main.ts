/** Entry point of the language server (bundled to dist/server.js). Speaks LSP over --stdio or --node-ipc. */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));
