// Renders a rule file with the generated TextMate grammar and VS Code's Light+ theme, as the
// screenshot of the documentation (docs/images/editeur-coloration.png). In a scratch folder:
//   npm install shiki@1 && node rendu.mjs mixite.tmLanguage.json exemple.regles apercu.html
//   chromium --headless --screenshot=apercu.png --window-size=1180,600 file://$PWD/apercu.html
import { createHighlighter } from "shiki";
import fs from "node:fs";
const grammar = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const code = fs.readFileSync(process.argv[3], "utf8");
const highlighter = await createHighlighter({
  themes: ["light-plus"],
  langs: [{ ...grammar, name: "mixite" }],
});
const html = highlighter.codeToHtml(code, { lang: "mixite", theme: "light-plus" });
fs.writeFileSync(process.argv[4], `<!doctype html><meta charset="utf-8"><title>mixite</title>
<style>body{margin:0;background:#fff;font-size:15px} pre{margin:0;padding:16px 20px;font-family:"DejaVu Sans Mono",monospace;line-height:1.45;white-space:pre-wrap}
.bar{background:#f3f3f3;border-bottom:1px solid #ddd;padding:6px 20px;font:13px sans-serif;color:#333}</style>
<div class="bar">exemple.regles — coloration par la grammaire TextMate générée (editors/vscode/syntaxes/mixite.tmLanguage.json), thème « Light+ » de VS Code, rendue avec shiki</div>${html}`);
