/** Entry point of the language server (bundled to dist/server.js). Speaks LSP over --stdio, --pipe, --socket or --node-ipc. */
import { startServer } from './server';
import { createServerConnection } from './transport';

// stdio, pipe and socket go through lsp/transport.ts (big messages read in slices); --node-ipc as before
startServer(createServerConnection());
