-- A second, independent LSP client: Neovim's built-in one (0.7+), started headless by test/nvim/nvim.test.ts.
-- It opens one file, starts `node dist/server.js --stdio` for it, and writes what it received to KVMLENS_OUT
-- (JSON): the publishDiagnostics params, what vim.diagnostic made of them, and a hover.
local server = assert(os.getenv('KVMLENS_SERVER'), 'KVMLENS_SERVER')
local file = assert(os.getenv('KVMLENS_FILE'), 'KVMLENS_FILE')
local out = assert(os.getenv('KVMLENS_OUT'), 'KVMLENS_OUT')
local lang = os.getenv('KVMLENS_LANGUAGE') or 'kvm-trace'
local node = os.getenv('KVMLENS_NODE') or 'node'
local hover_line = tonumber(os.getenv('KVMLENS_HOVER_LINE') or '-1')
local hover_char = tonumber(os.getenv('KVMLENS_HOVER_CHAR') or '0')

local function write(tbl)
  local f = assert(io.open(out, 'w'))
  f:write(vim.fn.json_encode(tbl))
  f:close()
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local published = nil
  local client_id = vim.lsp.start_client({
    name = 'kvm-lens',
    cmd = { node, server, '--stdio' },
    root_dir = vim.fn.fnamemodify(file, ':p:h'),
    get_language_id = function() return lang end,
    handlers = {
      ['textDocument/publishDiagnostics'] = function(e, result, ctx, config)
        if result and result.uri == vim.uri_from_bufnr(bufnr) then published = result end
        return vim.lsp.diagnostic.on_publish_diagnostics(e, result, ctx, config)
      end,
    },
  })
  if not client_id then error('vim.lsp.start_client failed') end
  vim.lsp.buf_attach_client(bufnr, client_id)
  local got = vim.wait(30000, function() return published ~= nil end, 50)
  local result = { received = got, diagnostics = published and published.diagnostics or vim.NIL }
  local client = vim.lsp.get_client_by_id(client_id)
  if client and client.initialized then result.initialized = true end
  result.vimDiagnostics = #vim.diagnostic.get(bufnr)
  if hover_line >= 0 then
    local resp = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      position = { line = hover_line, character = hover_char },
    }, 15000)
    local texts = {}
    for _, r in pairs(resp or {}) do
      if r.result and r.result.contents then
        local c = r.result.contents
        table.insert(texts, type(c) == 'table' and (c.value or vim.fn.json_encode(c)) or tostring(c))
      end
    end
    result.hover = table.concat(texts, '\n')
  end
  write(result)
  vim.lsp.stop_client(client_id)
  vim.wait(2000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
end)
if not ok then write({ error = tostring(err) }) end
vim.cmd('qall!')
