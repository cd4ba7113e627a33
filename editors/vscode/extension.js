// Starts `mixite lsp` (the language server of the rule language) for *.regles files.
// The command is the setting `mixite.commande` (default: `mixite lsp` from the PATH).
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace
    .getConfiguration("mixite")
    .get("commande", ["mixite", "lsp"]);
  client = new LanguageClient(
    "mixite",
    "mixite",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "mixite" }] },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
