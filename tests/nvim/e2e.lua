-- End-to-end driver for tests/test_neovim.py: a real Neovim runs dfix-lsp with
-- its built-in LSP client, or runs `dfix --write -` as a filter, on one file.
--
-- Run as: nvim --headless --clean -u NONE -i NONE -n FILE -c "luafile tests/nvim/e2e.lua"
-- with DFIX_NVIM_SPEC naming a JSON file:
--   mode      "lsp" | "filter" | "filter_guarded"
--   lsp_cmd   the server's argv (lsp mode)
--   dfix_cmd  dfix's argv, without arguments (filter modes)
--   root      the workspace folder
--   out       where this script writes its JSON report
--   timeout   milliseconds to wait for the server (diagnostics, formatting)
-- The report is written whatever happens; Neovim exits 0 when the script ran
-- to its end and 3 when it raised (the report then has "error").
--
-- Works on Neovim 0.7 (vim.lsp.start_client, vim.lsp.buf.formatting_sync) and
-- uses the newer API (vim.lsp.buf.format) where it exists.

local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('DFIX_NVIM_SPEC')), '\n'))
local version = vim.version()
local report = {
  nvim = { version.major, version.minor, version.patch },
  notifications = {}, diagnostics = {}, raw = {},
}

-- Everything vim.notify reports (0.7's formatting_sync reports a timeout this way).
vim.notify = function(message, level)
  table.insert(report.notifications, { message = tostring(message), level = level or vim.NIL })
end

local function write_report()
  vim.fn.writefile({ vim.fn.json_encode(report) }, spec.out)
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
end

-- The diagnostics as the server sent them, from whichever handler carries them:
-- pushed (publishDiagnostics; what 0.7 gets, as it cannot pull) or pulled (0.10+).
local function recording(method)
  return function(err, result, ctx, config)
    if result then
      local items = result.diagnostics or result.items or {}
      table.insert(report.raw, { method = method, items = items })
    end
    local answer = vim.lsp.handlers[method](err, result, ctx, config)
    if result then
      report.delivered = (report.delivered or 0) + 1
    end
    return answer
  end
end

local function vim_diagnostics(bufnr)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'dfix' then
      table.insert(found, {
        code = d.code or vim.NIL,
        lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
        severity = d.severity, message = d.message,
      })
    end
  end
  return found
end

-- What a user puts in BufWritePre: the newer API when there is one, else 0.7's.
local function format_sync(bufnr, timeout)
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = bufnr, timeout_ms = timeout })
  else
    vim.lsp.buf.formatting_sync(nil, timeout)
  end
end

local function start_server(bufnr)
  local config = {
    name = 'dfix',
    cmd = spec.lsp_cmd,
    root_dir = spec.root,
    handlers = {},
    flags = { debounce_text_changes = 0 },
    on_exit = function(code, signal)
      report.server_exit = { code = code, signal = signal }
    end,
  }
  for _, method in ipairs({ 'textDocument/publishDiagnostics', 'textDocument/diagnostic' }) do
    if vim.lsp.handlers[method] then
      config.handlers[method] = recording(method)
    end
  end
  local client_id
  if vim.lsp.start then -- 0.8+
    client_id = vim.lsp.start(config, { bufnr = bufnr })
    assert(client_id, 'vim.lsp.start failed')
  else -- 0.7
    client_id = vim.lsp.start_client(config)
    assert(client_id, 'vim.lsp.start_client failed')
    assert(vim.lsp.buf_attach_client(bufnr, client_id), 'vim.lsp.buf_attach_client failed')
  end
  return client_id
end

local function stop_server(client_id)
  if vim.lsp.get_client_by_id(client_id) then
    vim.lsp.stop_client(client_id)
    report.server_stopped = vim.wait(spec.timeout, function()
      return vim.lsp.get_client_by_id(client_id) == nil
    end, 20)
  end
end

local function run_lsp(bufnr)
  local client_id = start_server(bufnr)
  report.diagnostics_arrived = vim.wait(spec.timeout, function()
    return (report.delivered or 0) > 0 or report.server_exit ~= nil
  end, 20) and report.server_exit == nil
  if report.server_exit then
    error(('dfix-lsp exited (code %s, signal %s) before it sent diagnostics; see %s'):format(
      report.server_exit.code, report.server_exit.signal, vim.lsp.get_log_path()))
  end
  local client = vim.lsp.get_client_by_id(client_id)
  report.offset_encoding = client and client.offset_encoding or vim.NIL
  report.diagnostics = vim_diagnostics(bufnr)
  -- the latest set the server sent (a save makes it send them again)
  report.server_diagnostics = #report.raw > 0 and report.raw[#report.raw].items or {}

  -- The server's own answer to a formatting request, to tell "no edits" from a timeout.
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, options = { tabSize = 8, insertSpaces = false } }
  local answers, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/formatting', params, spec.timeout)
  local answer = answers and answers[client_id]
  report.formatting = {
    error = err or (answer and answer.err and vim.inspect(answer.err)) or vim.NIL,
    edits = answer and answer.result and #answer.result or vim.NIL,
  }

  -- Format on save, as a user would set it up, then :write.
  report.formatted_on_save = 0
  vim.api.nvim_create_autocmd('BufWritePre', {
    buffer = bufnr,
    callback = function()
      format_sync(bufnr, spec.timeout)
      report.formatted_on_save = report.formatted_on_save + 1
    end,
  })
  vim.cmd('write')
  report.buffer_after_write = buffer_text(bufnr)
  stop_server(client_id)
end

-- `:%!dfix --write -`: Vim replaces the lines with the command's output, even
-- when it fails (then with its error message, as 'shellredir' takes stderr too).
local function filter_command(bufnr)
  local words = {}
  for _, word in ipairs(spec.dfix_cmd) do
    table.insert(words, vim.fn.shellescape(word, 1))
  end
  local path = vim.api.nvim_buf_get_name(bufnr)
  return table.concat(words, ' ') .. ' --write - --stdin-filename ' .. vim.fn.shellescape(path, 1)
end

local function run_filter(bufnr, guarded)
  vim.cmd('silent %!' .. filter_command(bufnr))
  report.shell_error = vim.v.shell_error
  report.buffer_after_filter = buffer_text(bufnr)
  if guarded and vim.v.shell_error ~= 0 then
    vim.cmd('silent undo') -- the guard a user needs: take back what a failed run put there
  end
  vim.cmd('write')
  report.buffer_after_write = buffer_text(bufnr)
end

local ok, failure = xpcall(function()
  local bufnr = vim.api.nvim_get_current_buf()
  report.file = vim.api.nvim_buf_get_name(bufnr)
  if spec.mode == 'lsp' then
    run_lsp(bufnr)
  elseif spec.mode == 'filter' then
    run_filter(bufnr, false)
  elseif spec.mode == 'filter_guarded' then
    run_filter(bufnr, true)
  else
    error('unknown mode ' .. tostring(spec.mode))
  end
end, debug.traceback)

if not ok then
  report.error = tostring(failure)
end
write_report()
vim.cmd(ok and 'qall!' or 'cquit 3')
